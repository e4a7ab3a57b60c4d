-- Version 4: metric samples are stored a push at a time, one row per
-- series (name, node) of each push, with the samples packed in data (see
-- sqlstore's samples.go), instead of one row per sample: a push of 10,000
-- samples is tens of rows. first_time and last_time bound the samples'
-- times, for reading since a time and for retention; seq keeps the order
-- of insertion. The rows of samples written before stay readable until
-- retention drops them.
CREATE TABLE sample_batches (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id   text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    name       text NOT NULL,
    node_id    text NOT NULL,
    first_time text COLLATE "C" NOT NULL,
    last_time  text COLLATE "C" NOT NULL,
    data       bytea NOT NULL
);
CREATE INDEX sample_batches_group_last ON sample_batches (group_id, last_time);
