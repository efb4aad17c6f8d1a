package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes"
)

// Limits of a termination message, as the kubelet's.
const (
	maxMessageBytes = 4096 // read from terminationMessagePath
	maxLogMessage   = 2048 // taken from the log's tail
	logMessageLines = 80
)

// DefaultTerminationMessagePath is where a container writes its
// termination message when its spec names no path.
const DefaultTerminationMessagePath = "/dev/termination-log"

// terminationLog is the host file behind a container instance's
// terminationMessagePath.
func (a *Agent) terminationLog(uid, id string) string {
	return filepath.Join(a.cfg.DataDir, "pods", uid, "termination", id)
}

// addTerminationLog creates the host file a container writes its
// termination message to and mounts it at terminationMessagePath. Only
// containers get one: a Wasm module's preopens are directories.
func (a *Agent) addTerminationLog(pod *types.Pod, c *types.Container, rt runtimes.Runtime, spec *runtimes.Spec, id string) error {
	if rt.Name() != RuntimeContainer {
		return nil
	}
	path := c.TerminationMessagePath
	if path == "" {
		path = DefaultTerminationMessagePath
	}
	host := a.terminationLog(pod.UID, id)
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return fmt.Errorf("termination message file: %w", err)
	}
	f, err := os.OpenFile(host, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o666)
	if err != nil {
		return fmt.Errorf("termination message file: %w", err)
	}
	f.Close()
	if err := os.Chmod(host, 0o666); err != nil { // any user in the container may write it
		return fmt.Errorf("termination message file: %w", err)
	}
	spec.Mounts = append(spec.Mounts, runtimes.Mount{HostPath: host, ContainerPath: path})
	return nil
}

// terminationMessage is an exited container's message: what it wrote to
// its terminationMessagePath, or with FallbackToLogsOnError and a failed
// exit the tail of its log. It is read once per container and cached.
func (a *Agent) terminationMessage(c *types.Container, inst *instance, st *podState, code int32) string {
	if m, ok := st.messages[inst.info.ID]; ok {
		return m
	}
	msg := ""
	uid := inst.info.Labels[LabelPodUID]
	if f, err := os.Open(a.terminationLog(uid, inst.info.ID)); err == nil {
		b, _ := io.ReadAll(io.LimitReader(f, maxMessageBytes))
		f.Close()
		msg = string(b)
	}
	if msg == "" && code != 0 && c.TerminationMessagePolicy == types.TerminationMessageFallbackToLogsOnError {
		msg = a.logTail(inst)
	}
	st.messages[inst.info.ID] = msg
	return msg
}

// logTail returns the last lines of a container's log, at most
// maxLogMessage bytes.
func (a *Agent) logTail(inst *instance) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := inst.rt.Logs(ctx, inst.info.ID, runtimes.LogOptions{TailLines: logMessageLines})
	if err != nil {
		if !errors.Is(err, runtimes.ErrNotFound) {
			a.log.Warn("read log for a termination message", "id", inst.info.ID, "err", err)
		}
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
	b = bytes.TrimRight(b, "\n")
	if len(b) > maxLogMessage {
		b = b[len(b)-maxLogMessage:]
	}
	return strings.ToValidUTF8(string(b), "")
}
