// Command hello-wasm is the WebAssembly example: a WASI command module
// that prints its arguments and environment, counts if asked, and exits.
// With "alloc N" it allocates and touches N MiB, to show a memory limit at
// work (the module fails when resources.limits.memory is smaller).
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
	if len(os.Args) != 3 || (os.Args[1] != "count" && os.Args[1] != "alloc") {
		return
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(2)
	}
	if os.Args[1] == "alloc" {
		fmt.Println("allocated", len(alloc(n))>>20, "MiB")
		return
	}
	for i := 1; i <= n; i++ {
		fmt.Println(i)
	}
}

// alloc allocates n MiB and writes every page, so that the memory is used.
func alloc(n int) []byte {
	b := make([]byte, n<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}
