-- Version 10: a group's crash loop (its run of early node failures and the
-- replacement the backoff holds) lives in its row, so a restarted pesd
-- keeps backing off a crash-looping group instead of relaunching at once.
ALTER TABLE groups ADD COLUMN crash_failures     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN crash_last_failure TEXT    NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN crash_last_exit    TEXT    NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN crash_held         INTEGER NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN crash_held_change  TEXT    NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN crash_held_node    TEXT    NOT NULL DEFAULT '';
