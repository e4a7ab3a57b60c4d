-- Version 5: a group's label counters move into its row, so the statement
-- that records a pass over the group (its state) stores them too, instead
-- of one of their own.
ALTER TABLE groups ADD COLUMN last_event_label  integer NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN last_change_label integer NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN last_period_label integer NOT NULL DEFAULT 0;
UPDATE groups SET
    last_event_label  = coalesce((SELECT last FROM labels WHERE group_id = groups.id AND kind = 'E'), 0),
    last_change_label = coalesce((SELECT last FROM labels WHERE group_id = groups.id AND kind = 'C'), 0),
    last_period_label = coalesce((SELECT last FROM labels WHERE group_id = groups.id AND kind = 'H'), 0);
DROP TABLE labels;
