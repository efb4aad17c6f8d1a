package container_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/wharfhq/wharf/runtimes"
)

// cgroupValue reads a container's cgroup file: v1name under the v1
// controller's hierarchy, or v2name in the unified one.
func cgroupValue(t *testing.T, id, controller, v1name, v2name string) string {
	t.Helper()
	p := filepath.Join("/sys/fs/cgroup", controller, cgroupParent, id, v1name)
	if cgroups.IsCgroup2UnifiedMode() {
		p = filepath.Join("/sys/fs/cgroup", cgroupParent, id, v2name)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestResourceLimits(t *testing.T) {
	e := newEnv(t)
	s := e.spec("sleep", "1h")
	s.Resources = runtimes.Resources{MemoryLimitBytes: 64 << 20, CPUMillis: 500, PidsLimit: 100}
	e.create(t, "limits", s)
	if err := e.rt.Start(context.Background(), "limits"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		controller, v1, v2, want1, want2 string
	}{
		{"memory", "memory.limit_in_bytes", "memory.max", "67108864", "67108864"},
		{"cpu", "cpu.cfs_quota_us", "cpu.max", "50000", "50000 100000"},
		{"cpu", "cpu.cfs_period_us", "cpu.max", "100000", "50000 100000"},
		{"pids", "pids.max", "pids.max", "100", "100"},
	}
	for _, tt := range tests {
		t.Run(tt.v1, func(t *testing.T) {
			want := tt.want1
			if cgroups.IsCgroup2UnifiedMode() {
				want = tt.want2
			}
			if got := cgroupValue(t, "limits", tt.controller, tt.v1, tt.v2); got != want {
				t.Fatalf("%s = %q, want %q", tt.v1, got, want)
			}
		})
	}
}

// capEff is the effective capability mask in a /proc/PID/status text.
func capEff(t *testing.T, status string) uint64 {
	t.Helper()
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no CapEff in %q", status)
	return 0
}

func TestSecurity(t *testing.T) {
	e := newEnv(t)
	host, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	hostCaps := capEff(t, string(host))
	const netRaw, sysAdmin, chown = 1 << unix.CAP_NET_RAW, 1 << unix.CAP_SYS_ADMIN, 1 << unix.CAP_CHOWN
	capTests := []struct {
		name     string
		sec      runtimes.Security
		has, not uint64
	}{
		{"default", runtimes.Security{}, netRaw | chown, sysAdmin},
		{"drop NET_RAW", runtimes.Security{CapDrop: []string{"NET_RAW"}}, chown, netRaw | sysAdmin},
		{"add CAP_SYS_ADMIN", runtimes.Security{CapAdd: []string{"CAP_SYS_ADMIN"}}, sysAdmin | netRaw, 0},
		{"drop ALL add CHOWN", runtimes.Security{CapDrop: []string{"ALL"}, CapAdd: []string{"chown"}}, chown, netRaw | sysAdmin},
		{"privileged", runtimes.Security{Privileged: true}, hostCaps, 0},
	}
	for i, tt := range capTests {
		t.Run("capabilities "+tt.name, func(t *testing.T) {
			id := fmt.Sprintf("caps-%d", i)
			s := e.spec("cat", "/proc/self/status")
			s.Security = tt.sec
			if st := e.run(t, id, s); st.ExitCode != 0 {
				t.Fatalf("exit = %d", st.ExitCode)
			}
			got := capEff(t, e.logs(t, id, runtimes.LogOptions{}))
			if got&tt.has != tt.has || got&tt.not != 0 {
				t.Fatalf("CapEff = %#x, want %#x set and %#x clear", got, tt.has, tt.not)
			}
		})
	}
	if err := e.rt.Create(context.Background(), "badcap", &runtimes.Spec{Image: e.ref,
		Security: runtimes.Security{CapAdd: []string{"NOT_A_CAP"}}}); err == nil || !strings.Contains(err.Error(), "NOT_A_CAP") {
		t.Errorf("Create with an unknown capability: %v", err)
	}

	procTests := []struct {
		name       string
		args       []string
		privileged bool
		code       int
		out        string
	}{
		{"masked path reads empty", []string{"cat", "/proc/timer_list"}, false, 0, ""},
		{"/proc/sys is read-only", []string{"write", "/proc/sys/kernel/hostname", "x"}, false, 1, "read-only file system"},
		{"privileged /proc/sys is writable", []string{"write", "/proc/sys/kernel/hostname", "x"}, true, 0, "written"},
	}
	for i, tt := range procTests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("proc-%d", i)
			s := e.spec(tt.args...)
			s.Security.Privileged = tt.privileged
			st := e.run(t, id, s)
			out := e.logs(t, id, runtimes.LogOptions{})
			if st.ExitCode != tt.code || !strings.Contains(out, tt.out) || (tt.out == "" && out != "") {
				t.Fatalf("exit = %d, output %q; want %d and %q", st.ExitCode, out, tt.code, tt.out)
			}
		})
	}
}

// newNetNS creates a network namespace bound to a file, as a CNI plugin
// would leave one for a pod.
func newNetNS(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "netns")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error)
	go func() {
		// Never unlocked: the thread, now in the new namespace, ends with
		// the goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- unix.Mount("/proc/thread-self/ns/net", path, "", unix.MS_BIND, "")
	}()
	if err := <-errc; err != nil {
		t.Fatalf("network namespace: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(path, unix.MNT_DETACH) })
	return path
}

// nsInode is the inode of a namespace file.
func nsInode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestNetworkNamespace(t *testing.T) {
	e := newEnv(t)
	hostNS := nsInode(t, "/proc/self/ns/net")
	pod := newNetNS(t)
	tests := []struct {
		name   string
		netns  string
		want   uint64
		differ bool
	}{
		{"own", "", hostNS, true},
		{"joined", pod, nsInode(t, pod), false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("net-%d", i)
			s := e.spec("sleep", "1h")
			s.NetNSPath = tt.netns
			e.create(t, id, s)
			got := nsInode(t, fmt.Sprintf("/proc/%d/ns/net", initPid(t, e, id)))
			if (got != tt.want) != tt.differ {
				t.Fatalf("container netns inode %d, reference %d, want differ=%v", got, tt.want, tt.differ)
			}
		})
	}
}
