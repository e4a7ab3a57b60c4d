-- Version 5: a trigger's target-tracking request form, and a record's ignored events.
ALTER TABLE triggers ADD COLUMN target TEXT;  -- JSON api.Target
-- A decision record's ignored events, apart from its suppressed ones.
ALTER TABLE periods ADD COLUMN ignored TEXT;  -- JSON []api.PeriodSuppressed
