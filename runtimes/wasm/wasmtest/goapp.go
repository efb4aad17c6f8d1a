package wasmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// BuildGoApp compiles the Go fixture (testdata/app) with GOOS=wasip1
// GOARCH=wasm into dir and returns the module's path. Its first argument
// picks a mode:
//
//	(none)                 print "hello from wasm"
//	echo ARGS...           print "arg=X" per argument, then "env=K=V" sorted; "to stderr" on stderr
//	exit N                 exit with code N
//	write PATH CONTENT     write a file (in a preopened dir)
//	read PATH              print a file
//	sleep                  print "sleeping", then sleep forever
//	oom                    allocate 1 MiB at a time forever
//	wagi                   answer a WAGI request, echoing its CGI variables and body
//	redirect               answer with only a Location header
//	panic                  crash with a Go panic (exit code 2)
//
// Call it once from TestMain: building takes a moment.
func BuildGoApp(dir string) (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("wasmtest: cannot locate the fixture source")
	}
	src := filepath.Join(filepath.Dir(file), "testdata", "app")
	out := filepath.Join(dir, "app.wasm")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("wasmtest: build the Go wasip1 fixture: %w\n%s", err, b)
	}
	return out, nil
}
