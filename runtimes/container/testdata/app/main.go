// Command app is the test fixture run inside containers: a static program
// whose first argument picks what it does.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: app MODE [ARGS]")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "exit": // exit N
		n, _ := strconv.Atoi(args[0])
		os.Exit(n)
	case "echo": // print args, then the named env vars, and a line on stderr
		fmt.Println("args:", strings.Join(args, " "))
		for _, kv := range os.Environ() {
			fmt.Println("env:", kv)
		}
		wd, _ := os.Getwd()
		host, _ := os.Hostname()
		fmt.Printf("cwd: %s\nhost: %s\nuid: %d gid: %d groups: %v\n", wd, host, os.Getuid(), os.Getgid(), groups())
		fmt.Fprintln(os.Stderr, "to stderr")
	case "rtecho": // the runtimetest Echo contract
		for _, a := range args {
			fmt.Println("arg=" + a)
		}
		env := os.Environ()
		sort.Strings(env)
		for _, kv := range env {
			if strings.HasPrefix(kv, "RT_") {
				fmt.Println("env=" + kv)
			}
		}
		fmt.Fprintln(os.Stderr, "to stderr")
	case "sleep": // sleep DURATION
		d, _ := time.ParseDuration(args[0])
		time.Sleep(d)
	case "oom": // allocate and touch memory until killed
		var hold [][]byte
		for {
			b := make([]byte, 4<<20)
			for i := range b {
				b[i] = 1
			}
			hold = append(hold, b)
		}
	case "trap": // exit 0 on SIGTERM
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		fmt.Println("ready")
		<-c
		fmt.Println("got SIGTERM")
		os.Exit(0)
	case "winsize": // print stdin's terminal size, then again after SIGWINCH
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGWINCH)
		fmt.Println(winsize())
		fmt.Println("ready")
		<-c
		fmt.Println(winsize())
	case "ignore": // ignore SIGTERM and sleep
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		time.Sleep(time.Hour)
	case "write": // write PATH CONTENT
		if err := os.WriteFile(args[0], []byte(args[1]), 0o644); err != nil {
			fmt.Println("write failed:", err)
			os.Exit(1)
		}
		fmt.Println("written")
	case "fds": // say what fds 1 and 2 are
		for _, fd := range []string{"1", "2"} {
			l, err := os.Readlink("/proc/self/fd/" + fd)
			if err != nil {
				l = err.Error()
			}
			fmt.Printf("fd %s: %s\n", fd, l)
		}
	case "cat": // cat PATH
		b, err := os.ReadFile(args[0])
		if err != nil {
			fmt.Println("read failed:", err)
			os.Exit(1)
		}
		fmt.Print(string(b))
	case "spawn": // spawn N children that sleep; exit 3 if any fails
		n, _ := strconv.Atoi(args[0])
		var failed int
		var cmds []*exec.Cmd
		for range n {
			c := exec.Command("/app", "sleep", "10s")
			if err := c.Start(); err != nil {
				failed++
				continue
			}
			cmds = append(cmds, c)
		}
		fmt.Printf("started %d failed %d\n", len(cmds), failed)
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
		if failed > 0 {
			os.Exit(3)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
}

func groups() []int {
	g, _ := os.Getgroups()
	return g
}

// winsize reports stdin's terminal size, or that stdin is no terminal.
func winsize() string {
	var ws struct{ Row, Col, X, Y uint16 }
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, 0, syscall.TIOCGWINSZ, uintptr(unsafe.Pointer(&ws))); e != 0 {
		return "not a terminal: " + e.Error()
	}
	return fmt.Sprintf("size %dx%d", ws.Col, ws.Row)
}
