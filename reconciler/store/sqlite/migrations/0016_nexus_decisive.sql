-- Version 13: an indirect nexus names the event whose proposal the period's
-- policy took (seed 004's decisive cause), so a change's causes say which
-- one determined it as data rather than only in the explanation.
ALTER TABLE nexus ADD COLUMN decisive_event_id TEXT NOT NULL DEFAULT '';
