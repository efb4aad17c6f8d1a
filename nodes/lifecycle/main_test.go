package lifecycle

import (
	"testing"

	"github.com/wharfhq/wharf/nodes/nodeinfo/apitest"
)

// TestMain fails the run when goroutines started by the tests outlive them.
func TestMain(m *testing.M) { apitest.Main(m) }
