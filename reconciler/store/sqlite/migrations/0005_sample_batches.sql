-- Version 5: metric samples are stored a push at a time, one row per
-- series (name, node) of each push, with the samples packed in data (see
-- sqlstore's samples.go), instead of one row per sample: a push of 10,000
-- samples is tens of rows. first_time and last_time bound the samples'
-- times, for reading since a time and for retention. The rows of samples
-- written before stay readable until retention drops them.
CREATE TABLE sample_batches (
    group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    node_id    TEXT NOT NULL,
    first_time TEXT NOT NULL,
    last_time  TEXT NOT NULL,
    data       BLOB NOT NULL
) STRICT;
CREATE INDEX sample_batches_group_last ON sample_batches (group_id, last_time);
