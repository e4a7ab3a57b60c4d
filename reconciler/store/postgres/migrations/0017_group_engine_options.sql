-- Version 14: a group's engine options (lockdown_after_removal,
-- harmonize_after_requests, instructions_silence_triggers,
-- decreases_outrank_increases) as one JSON object; NULL on older rows,
-- which read as the defaults.
ALTER TABLE groups ADD COLUMN engine_options jsonb;  -- api.EngineOptions
