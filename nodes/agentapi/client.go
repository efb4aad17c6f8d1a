package agentapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/net/websocket"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes"
)

// ExecRequest is one exec call made by Exec.
type ExecRequest struct {
	// URL is the exec endpoint with its query (command, container, stdin,
	// stdout, stderr, tty): the API server's
	// /api/v1/namespaces/NS/pods/NAME/exec or the agent's own.
	URL string
	// Header is sent with the request (e.g. Authorization).
	Header http.Header
	// TLSConfig is used for an https:// URL (nil: the system's roots).
	TLSConfig *tls.Config
	// Stdin, when set, is copied to the command's stdin, which is closed at
	// its end (the URL must then ask for stdin=true). Exec returns when the
	// command has exited, whether Stdin has ended or not; the goroutine
	// copying it stops at its next read, so a caller whose Stdin can block
	// and who outlives Exec closes it.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Resize, with tty=true, carries terminal sizes to send (channel 4)
	// until it is closed or the command ends.
	Resize <-chan runtimes.TerminalSize
}

// Exec runs a command through the WebSocket channel protocol (v5, or v4)
// and returns its exit code. When the server refuses the upgrade, the
// error carries the server's Status message.
func Exec(ctx context.Context, req ExecRequest) (int, error) {
	wsURL := "ws" + strings.TrimPrefix(req.URL, "http")
	cfg, err := websocket.NewConfig(wsURL, "http://localhost/")
	if err != nil {
		return -1, fmt.Errorf("exec: %w", err)
	}
	cfg.Protocol = []string{ProtocolV5, ProtocolV4}
	cfg.TlsConfig = req.TLSConfig
	for k, v := range req.Header {
		cfg.Header[k] = v
	}
	conn, err := cfg.DialContext(ctx)
	if err != nil {
		return -1, refusal(ctx, req, err)
	}
	defer conn.Close()
	conn.PayloadType = websocket.BinaryFrame
	v5 := conn.Config().Protocol[0] == ProtocolV5

	var mu sync.Mutex
	if req.Stdin != nil {
		go func() {
			_, _ = io.Copy(&channelWriter{mu: &mu, conn: conn, ch: ChannelStdin}, req.Stdin)
			if v5 {
				mu.Lock()
				_ = websocket.Message.Send(conn, []byte{ChannelClose, ChannelStdin})
				mu.Unlock()
			}
		}()
	}
	defer context.AfterFunc(ctx, func() { _ = conn.Close() })()
	if req.Resize != nil {
		done := make(chan struct{})
		defer close(done)
		go sendResizes(conn, &mu, req.Resize, done)
	}
	var status *types.Status
	for {
		var msg []byte
		if err := websocket.Message.Receive(conn, &msg); err != nil {
			if ctx.Err() != nil {
				return -1, fmt.Errorf("exec: %w", ctx.Err())
			}
			if status == nil {
				if errors.Is(err, io.EOF) {
					return -1, errors.New("exec: the connection closed before the command's status arrived")
				}
				return -1, fmt.Errorf("exec: %w", err)
			}
			return ExitCodeOf(status)
		}
		if len(msg) == 0 {
			continue
		}
		var w io.Writer
		switch msg[0] {
		case ChannelStdout:
			w = req.Stdout
		case ChannelStderr:
			w = req.Stderr
		case ChannelError:
			status = &types.Status{}
			if err := json.Unmarshal(msg[1:], status); err != nil {
				return -1, fmt.Errorf("exec: bad status message %q: %w", msg[1:], err)
			}
			continue
		}
		if w != nil && len(msg) > 1 {
			if _, err := w.Write(msg[1:]); err != nil {
				return -1, fmt.Errorf("exec: write output: %w", err)
			}
		}
	}
}

// refusal explains a failed upgrade: the same URL asked without an upgrade
// answers the server's Status (pod not found, container not running, ...).
func refusal(ctx context.Context, req ExecRequest, dialErr error) error {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, req.URL, nil)
	if err != nil {
		return fmt.Errorf("exec: %w", dialErr)
	}
	for k, v := range req.Header {
		hreq.Header[k] = v
	}
	client := http.DefaultClient
	if req.TLSConfig != nil { // the dial's TLS settings, not the system's roots
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = req.TLSConfig
		defer t.CloseIdleConnections()
		client = &http.Client{Transport: t}
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var st types.Status
	if json.Unmarshal(b, &st) == nil && st.Message != "" {
		return fmt.Errorf("exec: %s", st.Message)
	}
	return fmt.Errorf("exec: %w (%s)", dialErr, resp.Status)
}
