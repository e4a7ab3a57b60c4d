-- A costs query reads a group's nodes that ran in a window in launch
-- order (NodeTimes); over months that is every node of the group, which
-- without this index were sorted on each read.
CREATE INDEX nodes_group_launched ON nodes (group_id, launched_at, id);
