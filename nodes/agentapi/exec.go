package agentapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/websocket"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes"
)

// WebSocket subprotocols of the Kubernetes channel protocol.
const (
	ProtocolV5 = "v5.channel.k8s.io"
	ProtocolV4 = "v4.channel.k8s.io"
)

// Channels of the channel protocol.
const (
	ChannelStdin  byte = 0
	ChannelStdout byte = 1
	ChannelStderr byte = 2
	ChannelError  byte = 3
	ChannelResize byte = 4
	// ChannelClose (v5) with a channel number as payload closes that
	// channel (the client's stdin).
	ChannelClose byte = 255
)

// Status reasons of exec's final Status.
const (
	ReasonNonZeroExitCode = "NonZeroExitCode"
	CauseExitCode         = "ExitCode"
)

// ExecStatus is the Status sent on ChannelError at the end of an exec: a
// Success, or a Failure whose cause ExitCode carries the code.
func ExecStatus(command []string, code int, err error) *types.Status {
	st := &types.Status{TypeMeta: types.TypeMeta{Kind: "Status", APIVersion: "v1"}}
	switch {
	case err != nil:
		st.Status, st.Message, st.Reason = "Failure", err.Error(), types.StatusReasonInternalError
	case code == 0:
		st.Status = "Success"
	default:
		st.Status = "Failure"
		st.Reason = ReasonNonZeroExitCode
		st.Message = fmt.Sprintf("command terminated with non-zero exit code: error executing command %v, exit code %d", command, code)
		st.Details = &types.StatusDetails{Causes: []types.StatusCause{{Type: CauseExitCode, Message: strconv.Itoa(code)}}}
	}
	return st
}

// ExitCodeOf reads the exit code from exec's final Status: 0 on Success,
// the ExitCode cause on a non-zero exit, and an error for other failures.
func ExitCodeOf(st *types.Status) (int, error) {
	if st.Status == "Success" {
		return 0, nil
	}
	if st.Reason == ReasonNonZeroExitCode && st.Details != nil {
		for _, c := range st.Details.Causes {
			if c.Type == CauseExitCode {
				if n, err := strconv.Atoi(c.Message); err == nil {
					return n, nil
				}
			}
		}
	}
	return -1, fmt.Errorf("exec: %s", st.Message)
}

func (s *Server) serveExec(w http.ResponseWriter, r *http.Request) {
	ns, pod, c := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("c")
	q := r.URL.Query()
	command := q["command"]
	if len(command) == 0 {
		writeStatus(w, http.StatusBadRequest, types.StatusReasonBadRequest, "you must specify at least one command for the container")
		return
	}
	insts, err := s.find(r.Context(), ns, pod, c)
	if err != nil {
		writeError(w, err)
		return
	}
	inst := insts[0]
	execer, ok := inst.rt.(runtimes.Execer)
	if !ok {
		writeStatus(w, http.StatusBadRequest, types.StatusReasonBadRequest,
			fmt.Sprintf("container %q in pod %q runs on the %s runtime, which cannot exec commands", c, pod, inst.rt.Name()))
		return
	}
	if inst.info.State != runtimes.StateRunning {
		writeStatus(w, http.StatusBadRequest, types.StatusReasonBadRequest,
			fmt.Sprintf("container %q in pod %q is not running (%s): cannot exec into it", c, pod, inst.info.State))
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		writeStatus(w, http.StatusBadRequest, types.StatusReasonBadRequest,
			"exec needs a WebSocket upgrade with subprotocol "+ProtocolV5+" or "+ProtocolV4+" (SPDY is not supported)")
		return
	}
	withStdin := isTrue(q.Get("stdin"))
	tty := isTrue(q.Get("tty"))
	ws := websocket.Server{
		Handshake: func(cfg *websocket.Config, _ *http.Request) error {
			for _, p := range []string{ProtocolV5, ProtocolV4} {
				for _, offered := range cfg.Protocol {
					if offered == p {
						cfg.Protocol = []string{p}
						return nil
					}
				}
			}
			return fmt.Errorf("no supported subprotocol in %v", cfg.Protocol)
		},
		Handler: func(conn *websocket.Conn) {
			s.runExec(r.Context(), conn, namedExecer{execer, ns, pod, c}, inst.info.ID, command, withStdin, tty)
		},
	}
	ws.ServeHTTP(w, r)
}

// channelWriter sends what is written as messages of one channel.
type channelWriter struct {
	mu   *sync.Mutex
	conn *websocket.Conn
	ch   byte
}

func (cw *channelWriter) Write(p []byte) (int, error) {
	msg := make([]byte, 1+len(p))
	msg[0] = cw.ch
	copy(msg[1:], p)
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if err := websocket.Message.Send(cw.conn, msg); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (s *Server) runExec(ctx context.Context, conn *websocket.Conn, execer runtimes.Execer, id string, command []string, withStdin, tty bool) {
	conn.PayloadType = websocket.BinaryFrame
	v5 := conn.Config().Protocol[0] == ProtocolV5
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	opts := runtimes.ExecOptions{
		Command: command,
		Stdout:  &channelWriter{mu: &mu, conn: conn, ch: ChannelStdout},
		Stderr:  &channelWriter{mu: &mu, conn: conn, ch: ChannelStderr},
		TTY:     tty,
	}
	var resize chan runtimes.TerminalSize
	if tty {
		// Only a terminal consumes sizes; sends give up when the exec ends.
		resize = make(chan runtimes.TerminalSize, 1)
		opts.Resize = resize
	}
	var (
		stdinR *io.PipeReader
		stdinW *io.PipeWriter
	)
	if withStdin {
		stdinR, stdinW = io.Pipe()
		opts.Stdin = stdinR
	}
	// The reader feeds stdin until the client closes it (v5) or the
	// connection; a closed connection also ends the command. The command's
	// end does not wait for it: the exec ends when the command does (as
	// the kubelet's), stdin still open or not.
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		defer func() {
			if stdinW != nil {
				_ = stdinW.Close()
			}
		}()
		for {
			var msg []byte
			if err := websocket.Message.Receive(conn, &msg); err != nil {
				cancel()
				return
			}
			if len(msg) == 0 {
				continue
			}
			switch msg[0] {
			case ChannelStdin:
				if stdinW != nil {
					if _, err := stdinW.Write(msg[1:]); err != nil {
						stdinW = nil
					}
				}
			case ChannelResize:
				if sz, ok := parseResize(msg[1:]); ok && resize != nil {
					select {
					case resize <- sz:
					case <-ctx.Done():
					}
				}
			case ChannelClose:
				if v5 && len(msg) > 1 && msg[1] == ChannelStdin && stdinW != nil {
					_ = stdinW.Close()
				}
			}
		}
	}()
	code, err := execer.Exec(ctx, id, opts)
	gone := errors.Is(ctx.Err(), context.Canceled) // the client went away
	cancel()                                       // a resize waiting for the command gives up
	if stdinR != nil {
		// A stdin message the command did not read no longer blocks the
		// reader, nor does the runtime still read from it.
		_ = stdinR.Close()
	}
	if err == nil || !gone {
		b, _ := json.Marshal(ExecStatus(command, code, err))
		_, _ = (&channelWriter{mu: &mu, conn: conn, ch: ChannelError}).Write(b)
	}
	// Closing ends the client's session (and the reader's Receive).
	_ = conn.Close()
	<-pumped
}

// parseResize decodes a resize message, JSON {"Width":W,"Height":H} as
// kubectl sends it; a malformed or empty size is dropped.
func parseResize(b []byte) (runtimes.TerminalSize, bool) {
	var sz struct{ Width, Height uint16 }
	if err := json.Unmarshal(b, &sz); err != nil || sz.Width == 0 || sz.Height == 0 {
		return runtimes.TerminalSize{}, false
	}
	return runtimes.TerminalSize{Width: sz.Width, Height: sz.Height}, true
}

// sendResizes sends each size from sizes as a resize message (channel 4,
// JSON as kubectl sends it) until sizes is closed or done.
func sendResizes(conn *websocket.Conn, mu *sync.Mutex, sizes <-chan runtimes.TerminalSize, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case sz, ok := <-sizes:
			if !ok {
				return
			}
			b, _ := json.Marshal(struct{ Width, Height uint16 }{sz.Width, sz.Height})
			_, _ = (&channelWriter{mu: mu, conn: conn, ch: ChannelResize}).Write(b)
		}
	}
}
