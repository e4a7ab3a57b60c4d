-- Version 9: a group's crash loop (its run of early node failures and the
-- replacement the backoff holds) lives in its row, so a restarted pesd
-- keeps backing off a crash-looping group instead of relaunching at once.
ALTER TABLE groups ADD COLUMN crash_failures     integer NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN crash_last_failure text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN crash_last_exit    text NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN crash_held         boolean NOT NULL DEFAULT false;
ALTER TABLE groups ADD COLUMN crash_held_change  text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN crash_held_node    text COLLATE "C" NOT NULL DEFAULT '';
