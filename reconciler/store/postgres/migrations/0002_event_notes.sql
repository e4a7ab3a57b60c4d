-- Version 2: pesd's notes about an event (how bounds clamped an immediate
-- request, why predictive governing did not) get their own column, so
-- reason holds only the reason given with the event.
ALTER TABLE events ADD COLUMN notes jsonb NOT NULL DEFAULT '[]';  -- array of strings

-- Until now the notes followed the requester's words in reason after a
-- mark, "words; pesd: notes", or were all of it, "pesd: notes". The words
-- stay in reason; the notes move, as the one string they were joined into.
UPDATE events SET notes = jsonb_build_array(substr(reason, 7)), reason = ''
WHERE starts_with(reason, 'pesd: ');

-- The words may hold the mark, the notes never do: the last mark splits,
-- which the greedy .* finds ('.' matches newlines too by default).
UPDATE events SET
    reason = substring(reason from '^(.*); pesd: '),
    notes = jsonb_build_array(substr(reason, char_length(substring(reason from '^(.*); pesd: ')) + 9))
WHERE strpos(reason, '; pesd: ') > 0;
