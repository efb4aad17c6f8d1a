package controllertest_test

import (
	"testing"

	"github.com/wharfhq/wharf/jobs/controller/controllertest"
)

func TestMain(m *testing.M) { controllertest.Main(m) }
