package container

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cyphar/filepath-securejoin"
	"github.com/moby/sys/capability"
	"github.com/moby/sys/user"
	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image"
)

// defaultPath is set when the image names no PATH (as Docker does).
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// defaultCaps is the capability set containerd and Docker give a
// container, and so Kubernetes too.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// Kubernetes' (containerd's) default masked and read-only /proc and /sys
// paths for an unprivileged container.
var (
	maskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// processArgs applies Kubernetes' command/args rules over the image's
// entrypoint/cmd: Command replaces the entrypoint (and drops the image's
// cmd); Args alone replaces only the cmd.
func processArgs(s *runtimes.Spec, cfg image.Config) []string {
	switch {
	case len(s.Command) > 0:
		return slices.Concat(s.Command, s.Args)
	case len(s.Args) > 0:
		return slices.Concat(cfg.Entrypoint, s.Args)
	}
	return slices.Concat(cfg.Entrypoint, cfg.Cmd)
}

// mergeEnv sets the extra variables over env (which may itself repeat a
// name: later wins), keeping each name at its first position.
func mergeEnv(env []string, extra []runtimes.EnvVar) []string {
	var out []string
	pos := map[string]int{}
	set := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := pos[k]; ok {
			out[i] = kv
			return
		}
		pos[k] = len(out)
		out = append(out, kv)
	}
	for _, kv := range env {
		set(kv)
	}
	for _, e := range extra {
		set(e.Name + "=" + e.Value)
	}
	return out
}

// resolveUser picks the uid, gid and supplementary groups: runAsUser and
// runAsGroup win; otherwise the image's user, resolved against the
// image's /etc/passwd and /etc/group when it is a name.
func resolveUser(s *runtimes.Spec, cfg image.Config, rootfs string) (specs.User, error) {
	spec := cfg.User
	if s.Security.RunAsUser != nil {
		spec = fmt.Sprint(*s.Security.RunAsUser)
		if s.Security.RunAsGroup != nil {
			spec += fmt.Sprintf(":%d", *s.Security.RunAsGroup)
		}
	} else if s.Security.RunAsGroup != nil {
		u, _, _ := strings.Cut(spec, ":")
		if u == "" {
			u = "0"
		}
		spec = fmt.Sprintf("%s:%d", u, *s.Security.RunAsGroup)
	}
	passwd, err := securejoin.SecureJoin(rootfs, "/etc/passwd")
	if err != nil {
		return specs.User{}, err
	}
	group, err := securejoin.SecureJoin(rootfs, "/etc/group")
	if err != nil {
		return specs.User{}, err
	}
	eu, err := user.GetExecUserPath(spec, &user.ExecUser{}, passwd, group)
	if err != nil {
		return specs.User{}, fmt.Errorf("%w: user %q: %w", runtimes.ErrInvalidImage, spec, err)
	}
	u := specs.User{UID: uint32(eu.Uid), GID: uint32(eu.Gid)}
	for _, g := range eu.Sgids {
		u.AdditionalGids = append(u.AdditionalGids, uint32(g))
	}
	return u, nil
}

// capabilities applies add/drop (names with or without CAP_, or ALL) to
// the default set. Privileged (and adding ALL) gives every capability this
// process holds, as containerd does: asking for one the agent lacks would
// only make the container's start fail.
func capabilities(sec runtimes.Security) ([]string, error) {
	all, err := currentCaps()
	if err != nil {
		return nil, err
	}
	if sec.Privileged {
		return all, nil
	}
	norm := func(c string) string {
		c = strings.ToUpper(c)
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		return c
	}
	known := knownCaps()
	caps := slices.Clone(defaultCaps)
	for _, d := range sec.CapDrop {
		d = norm(d)
		if d == "ALL" {
			caps = nil
			continue
		}
		caps = slices.DeleteFunc(caps, func(c string) bool { return c == d })
	}
	for _, a := range sec.CapAdd {
		a = norm(a)
		if a == "ALL" {
			caps = slices.Clone(all)
			continue
		}
		if !slices.Contains(known, a) {
			return nil, fmt.Errorf("unknown capability %q", a)
		}
		if !slices.Contains(caps, a) {
			caps = append(caps, a)
		}
	}
	return caps, nil
}

// ociSpec is everything buildSpec needs besides the runtime spec.
type ociSpec struct {
	id, dir, rootfs, cgroupsPath string
	img                          *image.Image
	spec                         *runtimes.Spec
}

// buildSpec turns a runtimes.Spec and an image config into an OCI runtime
// spec: the same bundle runc would run.
func buildSpec(o ociSpec) (*specs.Spec, error) {
	s := o.spec
	args := processArgs(s, o.img.Config)
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: image %q has no entrypoint or cmd and the container gives no command", runtimes.ErrInvalidImage, o.img.Ref)
	}
	hostname := s.Hostname
	if hostname == "" {
		hostname = o.id
		if len(hostname) > 63 {
			hostname = hostname[:63]
		}
	}
	cwd := s.WorkingDir
	if cwd == "" {
		cwd = o.img.Config.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	usr, err := resolveUser(s, o.img.Config, o.rootfs)
	if err != nil {
		return nil, err
	}
	caps, err := capabilities(s.Security)
	if err != nil {
		return nil, err
	}
	sysOpts := []string{"nosuid", "noexec", "nodev", "ro"}
	if s.Security.Privileged {
		sysOpts[3] = "rw"
	}
	mounts := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: sysOpts},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
	for _, f := range []string{"hosts", "hostname", "resolv.conf"} {
		mounts = append(mounts, specs.Mount{Destination: "/etc/" + f, Type: "bind", Source: filepath.Join(o.dir, f), Options: []string{"rbind", "rprivate", "rw"}})
	}
	for _, m := range s.Mounts {
		if !filepath.IsAbs(m.HostPath) || !filepath.IsAbs(m.ContainerPath) {
			return nil, fmt.Errorf("mount %q -> %q: both paths must be absolute", m.HostPath, m.ContainerPath)
		}
		opts := []string{"rbind", "rprivate"}
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		mounts = append(mounts, specs.Mount{Destination: m.ContainerPath, Type: "bind", Source: m.HostPath, Options: opts})
	}
	netns := specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: s.NetNSPath}
	namespaces := []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace},
		{Type: specs.UTSNamespace}, {Type: specs.MountNamespace}, netns}
	if cgroups.IsCgroup2UnifiedMode() {
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	res := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: s.Security.Privileged, Access: "rwm"}}}
	if l := s.Resources.MemoryLimitBytes; l > 0 {
		res.Memory = &specs.LinuxMemory{Limit: &l}
		if memswAvailable() {
			res.Memory.Swap = &l // no swap beyond the limit
		}
	}
	if m := s.Resources.CPUMillis; m > 0 {
		period := uint64(100_000)
		quota := max(m*100, 1000) // millicores of a 100ms period, at least 1ms
		res.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
	}
	if p := s.Resources.PidsLimit; p > 0 {
		res.Pids = &specs.LinuxPids{Limit: &p}
	}
	env := mergeEnv(slices.Concat([]string{defaultPath, "HOSTNAME=" + hostname}, o.img.Config.Env), s.Env)
	linux := &specs.Linux{
		CgroupsPath: o.cgroupsPath,
		Namespaces:  namespaces,
		Resources:   res,
	}
	if !s.Security.Privileged {
		linux.MaskedPaths = maskedPaths
		linux.ReadonlyPaths = readonlyPaths
	}
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Args: args, Env: env, Cwd: cwd, User: usr,
			Capabilities: &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
		},
		Root:     &specs.Root{Path: o.rootfs, Readonly: s.Security.ReadOnlyRootFilesystem},
		Hostname: hostname,
		Mounts:   mounts,
		Linux:    linux,
	}, nil
}

// supportedCaps lists the capabilities this kernel knows.
func supportedCaps() []capability.Cap {
	list, err := capability.ListSupported()
	if err != nil {
		return capability.ListKnown()
	}
	return list
}

func capName(c capability.Cap) string { return "CAP_" + strings.ToUpper(c.String()) }

// knownCaps lists the capabilities this kernel knows, as CAP_ names.
func knownCaps() []string {
	var out []string
	for _, c := range supportedCaps() {
		out = append(out, capName(c))
	}
	return out
}

// currentCaps lists the capabilities in this process's effective set.
func currentCaps() ([]string, error) {
	cur, err := capability.NewPid2(0)
	if err == nil {
		err = cur.Load()
	}
	if err != nil {
		return nil, fmt.Errorf("read own capabilities: %w", err)
	}
	var out []string
	for _, c := range supportedCaps() {
		if cur.Get(capability.EFFECTIVE, c) {
			out = append(out, capName(c))
		}
	}
	return out, nil
}
