// Command hello-container is the container example: a static HTTP server
// on :8080 that answers with its hostname, or, with arguments, prints them
// and exits; with "alloc N" it also allocates and touches N MiB, to show a
// memory limit at work (OOMKilled). go run ./examples/build packs it as an
// OCI image.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Printf("hello from a container: %q\n", os.Args[1:])
		if len(os.Args) == 3 && os.Args[1] == "alloc" {
			n, err := strconv.Atoi(os.Args[2])
			if err != nil {
				log.Fatalf("alloc: %v", err)
			}
			b := make([]byte, n<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1 // touch every page, so the memory is really used
			}
			fmt.Println("allocated", len(b)>>20, "MiB")
		}
		return
	}
	host, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", host)
	})
	log.Printf("listening on :8080 as %s", host)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
