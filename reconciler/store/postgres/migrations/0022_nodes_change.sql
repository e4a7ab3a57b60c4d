-- A change's cost reads the nodes it launched (NodeTimesOfChanges), by
-- this index: not every node of its group launched before it.
CREATE INDEX nodes_change ON nodes (change_id);
