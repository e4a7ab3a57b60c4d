-- Triggers' webhook action, and the event a notify firing's answer follows.
ALTER TABLE triggers ADD COLUMN notify TEXT;  -- JSON api.Notify, secret included
ALTER TABLE events ADD COLUMN parent_event_id TEXT NOT NULL DEFAULT '';
