// Command hello-wasm is the WebAssembly example: a WASI command module
// that prints its arguments and environment, counts if asked, and exits.
// Build it with: GOOS=wasip1 GOARCH=wasm go build -o hello.wasm .
// (go run ./examples/build does it for you).
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	fmt.Printf("hello from wasm: args=%q greeting=%q\n", os.Args[1:], os.Getenv("GREETING"))
	if len(os.Args) > 2 && os.Args[1] == "count" {
		n, err := strconv.Atoi(os.Args[2])
		if err != nil {
			fmt.Fprintf(os.Stderr, "count: %v\n", err)
			os.Exit(2)
		}
		for i := 1; i <= n; i++ {
			fmt.Println(i)
		}
	}
}
