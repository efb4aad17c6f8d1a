// Command app is the Go test fixture of the Wasm runtime, built with
// GOOS=wasip1 GOARCH=wasm. Its first argument picks what it does.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("hello from wasm")
		return
	}
	switch os.Args[1] {
	case "echo": // print args (one per line) then the environment, sorted
		for _, a := range os.Args[2:] {
			fmt.Println("arg=" + a)
		}
		env := os.Environ()
		sort.Strings(env)
		for _, e := range env {
			fmt.Println("env=" + e)
		}
		fmt.Fprintln(os.Stderr, "to stderr")
	case "exit": // exit N
		n, _ := strconv.Atoi(os.Args[2])
		os.Exit(n)
	case "write": // write PATH CONTENT
		if err := os.WriteFile(os.Args[2], []byte(os.Args[3]), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			os.Exit(1)
		}
	case "read": // read PATH
		b, err := os.ReadFile(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "read:", err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
	case "sleep": // sleep forever, in short naps
		fmt.Println("sleeping")
		for {
			time.Sleep(time.Hour)
		}
	case "oom": // allocate until the memory limit stops it
		var keep [][]byte
		for {
			keep = append(keep, make([]byte, 1<<20))
		}
	case "wagi": // echo the CGI request
		body, _ := io.ReadAll(os.Stdin)
		status := os.Getenv("HTTP_X_STATUS")
		if status != "" {
			fmt.Println("Status: " + status)
		}
		fmt.Println("Content-Type: text/plain")
		fmt.Println("X-Method: " + os.Getenv("REQUEST_METHOD"))
		fmt.Println()
		for _, k := range []string{"REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
			"SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SCRIPT_NAME", "X_FULL_URL", "HTTP_X_TEST", "GREETING"} {
			fmt.Printf("%s=%s\n", k, os.Getenv(k))
		}
		fmt.Printf("remote=%v\n", os.Getenv("REMOTE_ADDR") != "")
		fmt.Printf("body=%s\n", body)
		fmt.Fprintln(os.Stderr, "served "+os.Getenv("PATH_INFO"))
	case "redirect":
		fmt.Print("Location: /elsewhere\n\n")
	case "panic":
		var m map[string]int
		m["x"] = strings.Count("", "")
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
}
