-- Version 23: events lose their period index. Every event of a busy
-- group wrote a leaf page of its own to it, a quarter of the pages an
-- instruction's commit writes, and one read used it: a restart finding
-- the open period's events, which it now reads from the period's start
-- by the group's time index, checking their labels (the controller's
-- openPeriodEvents).
DROP INDEX events_period;
