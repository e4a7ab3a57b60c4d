-- Version 4: a trigger's target-tracking request form.
ALTER TABLE triggers ADD COLUMN target jsonb;  -- api.Target
