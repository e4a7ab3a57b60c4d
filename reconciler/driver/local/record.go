package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// A node's launch record, <dataDir>/nodes/<group>/<node>.pid, holds its
// handle (pid, start time, port, log) as JSON. It is written atomically before
// Launch returns, so a pesd killed between launching a node and storing
// its handle finds the process at the next start (Adopt with no handle)
// instead of launching the node a second time. It is removed once the
// node is terminated.

// recordPath is the launch record of a node.
func (d *Driver) recordPath(groupID, nodeID string) string {
	return filepath.Join(d.dir, "nodes", groupID, nodeID+".pid")
}

// writeRecord writes the launch record of n atomically: a temporary file
// renamed over the record, so a pesd killed at any point leaves the old
// record or the new one, never half of one. It is not synced: the record
// only has to outlive pesd, not the machine, whose crash ends the node's
// process too (and syncing doubled the time of a launch).
func (d *Driver) writeRecord(n *node) error {
	b, err := json.Marshal(n.handle)
	if err != nil {
		return err
	}
	path := d.recordPath(n.group, n.id)
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, n.id+".pid.*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write launch record %s: %w", path, err)
	}
	return nil
}

// errNoRecord means the node was never launched by this data directory
// (or its termination finished).
var errNoRecord = errors.New("no launch record")

// readRecord returns the handle in a node's launch record.
func (d *Driver) readRecord(groupID, nodeID string) (map[string]string, error) {
	path := d.recordPath(groupID, nodeID)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoRecord
	}
	if err != nil {
		return nil, fmt.Errorf("read launch record %s: %w", path, err)
	}
	var h map[string]string
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("launch record %s: %w", path, err)
	}
	return h, nil
}

// removeRecord removes a terminated node's launch record. A failure is
// only logged: a stale record names a process that is gone, which Adopt
// tells from a live one by its start time.
func (d *Driver) removeRecord(n *node) {
	path := d.recordPath(n.group, n.id)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		d.log.Warn("remove launch record", "group", n.group, "node", n.id, "err", err)
	}
}

// recordAlive reports whether the process a launch record names still
// runs (same pid, same start time).
func recordAlive(h map[string]string) bool {
	pid, err1 := strconv.Atoi(h[HandlePID])
	start, err2 := strconv.ParseUint(h[HandleStartTime], 10, 64)
	return err1 == nil && err2 == nil && pid > 0 && alive(pid, start)
}
