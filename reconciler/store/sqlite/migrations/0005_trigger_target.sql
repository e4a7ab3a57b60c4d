-- Version 5: a trigger's target-tracking request form.
ALTER TABLE triggers ADD COLUMN target TEXT;  -- JSON api.Target
