-- Triggers' webhook action, and the event a notify firing's answer follows.
ALTER TABLE triggers ADD COLUMN notify jsonb;  -- api.Notify, secret included
ALTER TABLE events ADD COLUMN parent_event_id text NOT NULL DEFAULT '';
