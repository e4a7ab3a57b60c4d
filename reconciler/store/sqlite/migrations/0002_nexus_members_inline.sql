-- Version 2: a nexus keeps its members as ordered JSON arrays on its own
-- row instead of in the link tables.
--
-- Every causality path already reaches the nexus by primary key (an event
-- or change carries its nexus_id, the contract's reverse link), so the
-- link tables only cost writes: three more B-tree inserts and two foreign
-- key probes per event and per change. Reading a nexus is now one row.

ALTER TABLE nexus ADD COLUMN event_ids TEXT NOT NULL DEFAULT '[]';   -- JSON array, caller's order
ALTER TABLE nexus ADD COLUMN change_ids TEXT NOT NULL DEFAULT '[]';  -- JSON array, caller's order

UPDATE nexus SET
    event_ids = coalesce((SELECT json_group_array(event_id ORDER BY pos)
                          FROM nexus_events WHERE nexus_id = nexus.id), '[]'),
    change_ids = coalesce((SELECT json_group_array(change_id ORDER BY pos)
                           FROM nexus_changes WHERE nexus_id = nexus.id), '[]');

DROP TABLE nexus_events;
DROP TABLE nexus_changes;

-- api.Period gained Notes (what a decision did not do, and why).
ALTER TABLE periods ADD COLUMN notes TEXT;  -- JSON array

-- The period indexes were partial (period_id <> ''), which SQLite can only
-- use when a query repeats that condition; a plain index serves
-- "period_id = ?" as written.
DROP INDEX events_period;
CREATE INDEX events_period ON events (period_id, time, id);
DROP INDEX changes_period;
CREATE INDEX changes_period ON changes (period_id, started_at, id);
