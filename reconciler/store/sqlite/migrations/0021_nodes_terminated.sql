-- A costs query reads only the node time its ledger of settled time has
-- not taken in: the live nodes and those terminated since
-- (NodeTimesEndedSince), two ranges of this index.
CREATE INDEX nodes_group_terminated ON nodes (group_id, terminated_at);
