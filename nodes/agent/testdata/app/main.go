// Command app is the fixture the agent's container tests run: a static
// program whose first argument picks what it does.
package main

import (
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
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
	case "env": // print the named env vars as NAME=VALUE, then exit 0
		for _, k := range args {
			fmt.Printf("%s=%s\n", k, os.Getenv(k))
		}
	case "cat": // cat PATH...
		for _, p := range args {
			b, err := os.ReadFile(p)
			if err != nil {
				fmt.Println("read failed:", err)
				os.Exit(1)
			}
			fmt.Printf("%s: %s\n", p, b)
		}
	case "sleep": // sleep DURATION
		d, _ := time.ParseDuration(args[0])
		time.Sleep(d)
	case "serve": // serve ADDR: /healthz answers 200 unless /tmp/unhealthy exists; exits 0 on SIGTERM
		http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
			if _, err := os.Stat("/tmp/unhealthy"); err == nil {
				http.Error(w, "unhealthy", http.StatusInternalServerError)
				return
			}
			fmt.Fprintln(w, "ok")
		})
		go func() {
			if err := http.ListenAndServe(args[0], nil); err != nil {
				fmt.Println("listen:", err)
				os.Exit(1)
			}
		}()
		waitTerm()
	case "touch": // touch PATH (for exec probes and hooks)
		if err := os.WriteFile(args[0], nil, 0o644); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
	case "write-exit": // write-exit PATH CONTENT N: write a file, then exit N
		if err := os.WriteFile(args[0], []byte(args[1]), 0o644); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		n, _ := strconv.Atoi(args[2])
		os.Exit(n)
	case "test": // test PATH: exit 0 if it exists
		if _, err := os.Stat(args[0]); err != nil {
			os.Exit(1)
		}
	case "trap": // run until SIGTERM, then exit 0
		waitTerm()
	case "spin": // burn one core until SIGTERM, then exit 0 (usage tests)
		go func() {
			for n := 0; ; n++ {
				_ = n * n
			}
		}()
		waitTerm()
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1], strings.Join(args, " "))
		os.Exit(2)
	}
}

func waitTerm() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	fmt.Println("ready")
	<-c
	fmt.Println("got SIGTERM")
	os.Exit(0)
}
