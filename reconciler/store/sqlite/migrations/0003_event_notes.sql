-- Version 3: pesd's notes about an event (how bounds clamped an immediate
-- request, why predictive governing did not) get their own column, so
-- reason holds only the reason given with the event.
ALTER TABLE events ADD COLUMN notes TEXT NOT NULL DEFAULT '[]';  -- JSON array of strings

-- Until now the notes followed the requester's words in reason after a
-- mark, "words; pesd: notes", or were all of it, "pesd: notes". The words
-- stay in reason; the notes move, as the one string they were joined into.
-- GLOB, unlike LIKE, is case-sensitive.
UPDATE events SET notes = json_array(substr(reason, 7)), reason = ''
WHERE reason GLOB 'pesd: *';

-- The words may hold the mark, the notes never do: the last mark splits.
-- SQLite has no "last position of", so mark walks the positions of the
-- mark in each reason and the greatest is kept.
WITH RECURSIVE mark (id, reason, at) AS (
    SELECT id, reason, instr(reason, '; pesd: ') FROM events
    WHERE instr(reason, '; pesd: ') > 0
    UNION ALL
    SELECT id, reason, at + instr(substr(reason, at + 1), '; pesd: ') FROM mark
    WHERE instr(substr(reason, at + 1), '; pesd: ') > 0
),
last_mark (id, at) AS (SELECT id, max(at) FROM mark GROUP BY id)
UPDATE events SET notes = json_array(substr(events.reason, last_mark.at + 8)),
                  reason = substr(events.reason, 1, last_mark.at - 1)
FROM last_mark WHERE events.id = last_mark.id;
