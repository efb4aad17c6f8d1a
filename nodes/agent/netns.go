package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// A Pod's containers share one network namespace, as in Kubernetes (they
// reach each other on localhost). The agent creates it before the first
// container (unshare(CLONE_NEWNET) on a locked OS thread, loopback up,
// bind-mounted on <Config.NetNSDir>/<pod uid> so it outlives the thread
// and the agent) and passes its path to the runtime as Spec.NetNSPath. For
// now it holds only the loopback interface; pod-to-pod networking is
// future work.
//
// Probes reach a container's ports from inside that namespace: a helper
// goroutine locks itself to an OS thread, setns(2)s into the namespace and
// dials; the socket stays in the namespace whatever thread then uses it.
// Such a thread is never unlocked, so Go discards it when the goroutine
// ends instead of reusing a thread left in another namespace.

// netnsDir is where Pod network namespaces are bind-mounted.
func (a *Agent) netnsDir() string { return a.cfg.NetNSDir }

// netnsPath is the bind mount of a Pod's network namespace.
func (a *Agent) netnsPath(uid string) string { return filepath.Join(a.netnsDir(), uid) }

// ensureNetNS creates the Pod's network namespace if it does not exist.
func (a *Agent) ensureNetNS(uid string) (string, error) {
	p := a.netnsPath(uid)
	if isNetNS(p) {
		return p, nil
	}
	_ = unix.Unmount(p, unix.MNT_DETACH) // a stale mount of a half-made one
	if err := a.createNetNSFile(p); err != nil {
		return "", fmt.Errorf("pod network namespace: %w", err)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		src := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(src, p, "none", unix.MS_BIND, ""); err != nil {
			errc <- fmt.Errorf("bind mount %s: %w", p, err)
			return
		}
		errc <- loopbackUp()
	}()
	if err := <-errc; err != nil {
		_ = unix.Unmount(p, unix.MNT_DETACH)
		_ = a.removeNetNSFile(p)
		return "", fmt.Errorf("pod network namespace: %w", err)
	}
	return p, nil
}

// createNetNSFile creates the file a Pod's namespace is mounted on, and
// the node's directory for it. Under netnsMu, so that removeNetNSFile
// cannot remove the directory between the two.
func (a *Agent) createNetNSFile(p string) error {
	a.netnsMu.Lock()
	defer a.netnsMu.Unlock()
	if err := os.MkdirAll(a.netnsDir(), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	return f.Close()
}

// removeNetNSFile removes the (unmounted) file of a Pod's namespace, then
// the node's directory if that was the last: nothing is left in /run once
// a node runs no container Pods.
func (a *Agent) removeNetNSFile(p string) error {
	a.netnsMu.Lock()
	defer a.netnsMu.Unlock()
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	a.removeNetNSDirLocked()
	return nil
}

// removeNetNSDir removes the node's namespace directory if it is empty
// (the agent ends; Pods left running keep theirs, and it).
func (a *Agent) removeNetNSDir() {
	a.netnsMu.Lock()
	defer a.netnsMu.Unlock()
	a.removeNetNSDirLocked()
}

// removeNetNSDirLocked removes the node's namespace directory if it is
// empty; the caller holds netnsMu.
func (a *Agent) removeNetNSDirLocked() {
	// rmdir: refused (ENOTEMPTY) while any Pod's namespace is in it.
	err := os.Remove(a.netnsDir())
	if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
		a.log.Warn("remove network namespace directory", "dir", a.netnsDir(), "err", err)
	}
}

// isNetNS reports whether p is a mounted network namespace.
func isNetNS(p string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

// loopbackUp sets "lo" up in the calling thread's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

// removeNetNS unmounts and removes a Pod's network namespace.
func (a *Agent) removeNetNS(uid string) error {
	p := a.netnsPath(uid)
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", p, err)
	}
	return a.removeNetNSFile(p)
}

// netnsUIDs lists the Pods that have a network namespace.
func (a *Agent) netnsUIDs() []string {
	ents, err := os.ReadDir(a.netnsDir())
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// dialIn returns a dial function that connects from inside the network
// namespace at path.
func dialIn(path string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type result struct {
			c   net.Conn
			err error
		}
		ch := make(chan result, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: see the comment at the top of this file
			fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				ch <- result{err: fmt.Errorf("open netns %s: %w", path, err)}
				return
			}
			err = unix.Setns(fd, unix.CLONE_NEWNET)
			unix.Close(fd)
			if err != nil {
				ch <- result{err: fmt.Errorf("setns %s: %w", path, err)}
				return
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			ch <- result{c, err}
		}()
		r := <-ch
		return r.c, r.err
	}
}
