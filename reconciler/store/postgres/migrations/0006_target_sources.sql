-- Version 6: triggers' targets, records' ignored events, groups' metric sources.
ALTER TABLE triggers ADD COLUMN target jsonb;  -- api.Target
-- A decision record's ignored events, apart from its suppressed ones.
ALTER TABLE periods ADD COLUMN ignored jsonb;  -- []api.PeriodSuppressed
-- A group's metric sources (Prometheus queries pesd runs itself).
ALTER TABLE groups ADD COLUMN metric_sources jsonb;  -- []api.MetricSource
