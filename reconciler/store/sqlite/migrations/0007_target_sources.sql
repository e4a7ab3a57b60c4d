-- Version 7: triggers' targets, records' ignored events, groups' metric sources.
ALTER TABLE triggers ADD COLUMN target TEXT;  -- JSON api.Target
-- A decision record's ignored events, apart from its suppressed ones.
ALTER TABLE periods ADD COLUMN ignored TEXT;  -- JSON []api.PeriodSuppressed
-- A group's metric sources (Prometheus queries pesd runs itself).
ALTER TABLE groups ADD COLUMN metric_sources TEXT;  -- JSON []api.MetricSource
