package container

import (
	"os"
	"runtime"

	"github.com/opencontainers/runc/libcontainer"
	// nsenter's C constructor runs before the Go runtime in the re-executed
	// init and joins or creates the namespaces; it is a no-op otherwise.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
	// Registers the device cgroup manager, without which libcontainer
	// cannot apply device rules.
	_ "github.com/opencontainers/cgroups/devices"
)

// init locks the main goroutine to the main thread for the life of the
// process. libcontainer's parent side (goCreateMountSources, on every
// container start) runs a goroutine that locks its thread, setns(2)es it
// into the new container's mount namespace and returns without unlocking,
// so that Go destroys the thread. Go cannot destroy the main thread: were
// that goroutine scheduled there, the main thread would be parked forever
// inside the container's mount namespace, pinning the container's mounts
// after Remove and making /proc/self/mountinfo describe the container.
// With the main goroutine locked to it, no other goroutine runs there.
func init() { runtime.LockOSThread() }

// relayArg is argv[1] of a log relay process (see startRelay).
const relayArg = "__wharf_container_log_relay"

// Init must be the first thing main (and the TestMain of any test binary
// that runs containers) does. The runtime re-executes the current binary
// (/proc/self/exe) for two helpers: libcontainer's container init
// ("init", with _LIBCONTAINER_INITPIPE set) and the log relay. In those
// processes Init runs the helper and never returns; in any other process
// it returns at once.
func Init() {
	if len(os.Args) < 2 {
		return
	}
	switch {
	case os.Args[1] == "init" && os.Getenv("_LIBCONTAINER_INITPIPE") != "":
		libcontainer.Init() // does not return
	case os.Args[1] == relayArg:
		os.Exit(runRelay(os.Args[2:]))
	}
}
