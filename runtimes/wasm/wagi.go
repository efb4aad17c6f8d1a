package wasm

import (
	"context"
	"errors"
	"net/http"

	"github.com/wharfhq/wharf/runtimes"
)

// HTTPHandler is not implemented yet.
func (r *Runtime) HTTPHandler(ctx context.Context, spec *runtimes.Spec) (http.Handler, error) {
	return nil, errors.New("wasm: HTTP functions not implemented yet")
}
