package wasm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/logs"
)

// record is a container's state.json: enough to list it, and to start it
// if it was only created, after the agent restarts.
type record struct {
	ID   string               `json:"id"`
	Spec runtimes.Spec        `json:"spec"`
	Ref  moduleRef            `json:"ref"`
	Info runtimes.Info        `json:"info"`
	Exit *runtimes.ExitStatus `json:"exit,omitempty"`
}

// persist writes c's record. Called with c.mu held.
func (r *Runtime) persist(c *container) error {
	b, err := json.Marshal(record{ID: c.id, Spec: c.spec, Ref: c.ref, Info: c.info(), Exit: c.exit})
	if err != nil {
		return fmt.Errorf("record of wasm container %q: %w", c.id, err)
	}
	return writeFileAtomic(filepath.Join(r.root, "tmp"), filepath.Join(c.dir, "state.json"), b)
}

// loadRecords lists the containers an earlier process recorded. Those that
// were running ended with that process: they are exited, reason Unknown.
func (r *Runtime) loadRecords() error {
	dir := filepath.Join(r.root, "containers")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("wasm runtime: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "state.json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue // a Create that did not finish
		}
		if err != nil {
			return fmt.Errorf("wasm runtime: %w", err)
		}
		var rec record
		if err := json.Unmarshal(b, &rec); err != nil || rec.ID != e.Name() {
			// A corrupt record cannot describe a container; leave the
			// directory for a human to look at rather than fail the node.
			continue
		}
		c := &container{
			id: rec.ID, dir: filepath.Join(dir, rec.ID), spec: rec.Spec, ref: rec.Ref,
			state: rec.Info.State, createdAt: rec.Info.CreatedAt, startedAt: rec.Info.StartedAt,
			exit: rec.Exit, done: make(chan struct{}),
		}
		if c.state == runtimes.StateRunning {
			now := r.now().UTC()
			c.state = runtimes.StateExited
			c.exit = &runtimes.ExitStatus{ExitCode: -1, Reason: runtimes.ReasonUnknown,
				Message: "agent restarted while the module was running", StartedAt: c.startedAt, FinishedAt: now}
			if err := logs.MarkDone(c.logPath()); err != nil {
				return fmt.Errorf("wasm runtime: %w", err)
			}
			if err := r.persist(c); err != nil {
				return fmt.Errorf("wasm runtime: %w", err)
			}
		}
		if c.state == runtimes.StateExited {
			close(c.done)
		}
		r.containers[c.id] = c
	}
	return nil
}
