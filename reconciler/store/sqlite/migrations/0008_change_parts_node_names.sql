-- Version 8: an add_nodes change records the parts in which its nodes
-- became ready (api.Change.Parts), and node names are read from the
-- nodes of a group that held the same index before: the index below
-- keeps that count from scanning the group's whole history. An event about
-- a node keeps the node's name as it was then (older events have none,
-- and are read with the node's id).
ALTER TABLE changes ADD COLUMN parts TEXT;  -- JSON array of {ready_at, amount}; NULL: none
CREATE INDEX nodes_group_index ON nodes (group_id, idx, launched_at, id);
ALTER TABLE events ADD COLUMN node_name TEXT NOT NULL DEFAULT '';
