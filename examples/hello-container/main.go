// Command hello-container is the container example: a static HTTP server
// on :8080 that answers with its hostname, or, with arguments, prints them
// and exits. go run ./examples/build packs it as an OCI image.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Printf("hello from a container: %q\n", os.Args[1:])
		return
	}
	host, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", host)
	})
	log.Printf("listening on :8080 as %s", host)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
