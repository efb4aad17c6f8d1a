package plugins

import (
	"errors"
	"fmt"
)

// ErrMissingState: a plugin's Filter or Score ran without the data its
// PreFilter or PreScore stores (a profile that enables one without the
// other cannot happen with the built-in plugins; a custom profile could).
var ErrMissingState = errors.New("cycle state missing")

func errMissingState(plugin string) error {
	return fmt.Errorf("plugin %q: %w", plugin, ErrMissingState)
}
