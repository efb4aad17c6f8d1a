package badger_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wharfhq/wharf/storage/badger"
)

// crashWriterEnv, when set to a directory, turns the test binary into the
// crash test's writer process (see TestMain).
const crashWriterEnv = "WHARF_STORAGE_CRASH_WRITER"

const (
	crashWriters = 4   // concurrent writers in the child, so group commit is in play
	crashAcks    = 600 // acknowledged writes the parent waits for before SIGKILL
)

func crashValue(key string) string { return "value of " + key }

// crashWriter creates keys from several goroutines for ever, printing
// "revision key" for each acknowledged Create. It only ends when killed.
func crashWriter() int {
	dir := os.Getenv(crashWriterEnv)
	s, err := badger.Open(dir, badger.WithLogger(quiet), badger.WithBadgerOptions(smallBadger), badger.WithCompactInterval(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash writer:", err)
		return 2
	}
	var mu sync.Mutex
	errs := make(chan error)
	for g := range crashWriters {
		go func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("/crash/%d/%d", g, i)
				rev, err := s.Create(context.Background(), key, []byte(crashValue(key)))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				// One write(2) per line: a line on the pipe is an ack.
				_, err = fmt.Fprintf(os.Stdout, "%d %s\n", rev, key)
				mu.Unlock()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	fmt.Fprintln(os.Stderr, "crash writer:", <-errs)
	return 3
}

// TestCrashKeepsAcknowledgedWrites kills a writer process with SIGKILL in
// the middle of a stream of synced writes and checks that every write it
// acknowledged is there after reopening, at the acknowledged revision.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashWriterEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start writer: %v", err)
	}

	acked := map[string]int64{}
	var maxRev int64
	r := bufio.NewReader(stdout)
	killed := false
	for {
		line, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) {
			break // a fragment without a newline is not an ack
		}
		if err != nil {
			t.Fatalf("read writer output: %v", err)
		}
		revStr, key, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		rev, perr := strconv.ParseInt(revStr, 10, 64)
		if !ok || perr != nil {
			t.Fatalf("bad writer line %q", line)
		}
		acked[key] = rev
		maxRev = max(maxRev, rev)
		if len(acked) == crashAcks && !killed {
			// Lines already in the pipe are acks too: keep reading to EOF.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatalf("kill writer: %v", err)
			}
			killed = true
		}
	}
	werr := cmd.Wait()
	if !killed {
		t.Fatalf("writer exited after %d acks without being killed: %v\n%s", len(acked), werr, stderr.String())
	}
	t.Logf("writer killed after %d acknowledged writes (latest revision %d)", len(acked), maxRev)

	s := open(t, dir)
	if got := s.Revision(); got < maxRev {
		t.Fatalf("Revision after crash = %d, below the acknowledged %d", got, maxRev)
	}
	for key, rev := range acked {
		kv, err := s.Get(t.Context(), key)
		if err != nil {
			t.Fatalf("acknowledged %q at %d: %v", key, rev, err)
		}
		if string(kv.Value) != crashValue(key) || kv.ModRevision != rev || kv.CreateRevision != rev {
			t.Fatalf("acknowledged %q at %d: got %q at %d (created %d)", key, rev, kv.Value, kv.ModRevision, kv.CreateRevision)
		}
	}
	// The recovered store carries on after every revision it holds.
	rev, err := s.Create(t.Context(), "/after-crash", nil)
	if err != nil || rev <= s.Revision()-1 || rev <= maxRev {
		t.Fatalf("Create after crash = %d, %v", rev, err)
	}
}
