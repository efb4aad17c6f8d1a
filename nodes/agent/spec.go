package agent

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/volumes"
	"github.com/wharfhq/wharf/runtimes"
)

// ErrConfigSource: a ConfigMap, Secret or key an env var or volume needs
// is missing (and not optional).
var ErrConfigSource = errors.New("missing configuration source")

// buildSpec turns a Pod's container into a runtime Spec.
func (a *Agent) buildSpec(pod *types.Pod, c *types.Container, init bool, restart int32, mounts map[string]string, netns string) (*runtimes.Spec, error) {
	env, err := a.resolveEnv(pod, c)
	if err != nil {
		return nil, err
	}
	lookup := map[string]string{}
	for _, e := range env {
		lookup[e.Name] = e.Value
	}
	expandAll := func(in []string) []string {
		if in == nil {
			return nil
		}
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = expand(s, lookup)
		}
		return out
	}
	spec := &runtimes.Spec{
		Image:      c.Image,
		PullPolicy: string(c.ImagePullPolicy),
		Command:    expandAll(c.Command),
		Args:       expandAll(c.Args),
		Env:        env,
		WorkingDir: c.WorkingDir,
		Hostname:   podHostname(pod),
		Labels:     containerLabels(pod, c, init, restart),
		NetNSPath:  netns,
	}
	if spec.PullPolicy == "" {
		spec.PullPolicy = string(types.PullIfNotPresent)
	}
	for _, m := range c.VolumeMounts {
		host, ok := mounts[m.Name]
		if !ok {
			return nil, fmt.Errorf("volume mount %q: no volume of that name", m.Name)
		}
		if m.SubPath != "" {
			sub := filepath.Clean("/" + m.SubPath)
			host = filepath.Join(host, sub)
		}
		spec.Mounts = append(spec.Mounts, runtimes.Mount{
			HostPath: host, ContainerPath: m.MountPath,
			ReadOnly: m.ReadOnly || a.vols.ReadOnly(pod, m.Name),
		})
	}
	if q, ok := c.Resources.Limits[types.ResourceMemory]; ok {
		spec.Resources.MemoryLimitBytes = q.Value()
	}
	if q, ok := c.Resources.Limits[types.ResourceCPU]; ok {
		spec.Resources.CPUMillis = q.MilliValue()
	}
	spec.Security = security(pod, c)
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil && pod.Status.StartTime != nil {
		left := pod.Status.StartTime.Add(time.Duration(*d) * time.Second).Sub(a.cfg.Now())
		if left < time.Millisecond {
			left = time.Millisecond
		}
		spec.Deadline = left
	}
	return spec, nil
}

// podHostname is the Pod's hostname: spec.hostname or its name (cut to 63).
func podHostname(pod *types.Pod) string {
	h := pod.Spec.Hostname
	if h == "" {
		h = pod.Name
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}

// security merges the Pod's and the container's security settings.
func security(pod *types.Pod, c *types.Container) runtimes.Security {
	var s runtimes.Security
	if psc := pod.Spec.SecurityContext; psc != nil {
		s.RunAsUser, s.RunAsGroup = psc.RunAsUser, psc.RunAsGroup
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			s.RunAsUser = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			s.RunAsGroup = sc.RunAsGroup
		}
		s.ReadOnlyRootFilesystem = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
		s.Privileged = sc.Privileged != nil && *sc.Privileged
		if caps := sc.Capabilities; caps != nil {
			for _, c := range caps.Add {
				s.CapAdd = append(s.CapAdd, string(c))
			}
			for _, c := range caps.Drop {
				s.CapDrop = append(s.CapDrop, string(c))
			}
		}
	}
	return s
}

// resolveEnv computes a container's environment as the kubelet does:
// envFrom first (in order, prefixed), then env (in order), each value
// expanded against the variables defined before it.
func (a *Agent) resolveEnv(pod *types.Pod, c *types.Container) ([]runtimes.EnvVar, error) {
	var out []runtimes.EnvVar
	idx := map[string]int{}
	set := func(k, v string) {
		if i, ok := idx[k]; ok {
			out[i].Value = v
			return
		}
		idx[k] = len(out)
		out = append(out, runtimes.EnvVar{Name: k, Value: v})
	}
	for _, from := range c.EnvFrom {
		var data map[string]string
		switch {
		case from.ConfigMapRef != nil:
			cm, err := a.configMap(pod.Namespace, from.ConfigMapRef.Name)
			if err != nil {
				if optional(from.ConfigMapRef.Optional) {
					continue
				}
				return nil, err
			}
			data = cm.Data
		case from.SecretRef != nil:
			sec, err := a.secret(pod.Namespace, from.SecretRef.Name)
			if err != nil {
				if optional(from.SecretRef.Optional) {
					continue
				}
				return nil, err
			}
			data = map[string]string{}
			for k, v := range sec.Data {
				data[k] = string(v)
			}
		}
		for _, k := range sortedKeys(data) {
			set(from.Prefix+k, data[k])
		}
	}
	lookup := func() map[string]string {
		m := make(map[string]string, len(out))
		for _, e := range out {
			m[e.Name] = e.Value
		}
		return m
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, lookup()))
			continue
		}
		v, skip, err := a.envValue(pod, c, e.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("env %q: %w", e.Name, err)
		}
		if !skip {
			set(e.Name, v)
		}
	}
	return out, nil
}

// envValue resolves one valueFrom; skip is true for an optional key that
// is missing.
func (a *Agent) envValue(pod *types.Pod, c *types.Container, from *types.EnvVarSource) (v string, skip bool, err error) {
	switch {
	case from.FieldRef != nil:
		v, err := a.fieldValue(pod, from.FieldRef.FieldPath)
		return v, false, err
	case from.ResourceFieldRef != nil:
		v, err := resourceValue(pod, c, from.ResourceFieldRef)
		return v, false, err
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		cm, err := a.configMap(pod.Namespace, ref.Name)
		if err != nil {
			return "", optional(ref.Optional), ignoreIf(optional(ref.Optional), err)
		}
		val, ok := cm.Data[ref.Key]
		if !ok {
			if b, ok2 := cm.BinaryData[ref.Key]; ok2 {
				return string(b), false, nil
			}
			if optional(ref.Optional) {
				return "", true, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s: %w", ref.Key, pod.Namespace, ref.Name, ErrConfigSource)
		}
		return val, false, nil
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		sec, err := a.secret(pod.Namespace, ref.Name)
		if err != nil {
			return "", optional(ref.Optional), ignoreIf(optional(ref.Optional), err)
		}
		val, ok := sec.Data[ref.Key]
		if !ok {
			if optional(ref.Optional) {
				return "", true, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s: %w", ref.Key, pod.Namespace, ref.Name, ErrConfigSource)
		}
		return string(val), false, nil
	}
	return "", true, nil
}

func ignoreIf(cond bool, err error) error {
	if cond {
		return nil
	}
	return err
}

func optional(b *bool) bool { return b != nil && *b }

// fieldValue resolves a downward-API field path of the Pod.
func (a *Agent) fieldValue(pod *types.Pod, path string) (string, error) {
	return volumes.FieldValue(pod, path, a.cfg.HostIP, a.podIP(pod))
}

// resourceValue resolves a resourceFieldRef of the container (or of the
// container it names).
func resourceValue(pod *types.Pod, c *types.Container, ref *types.ResourceFieldSelector) (string, error) {
	target := c
	if ref.ContainerName != "" {
		target = nil
		for _, list := range [][]types.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
			for i := range list {
				if list[i].Name == ref.ContainerName {
					target = &list[i]
				}
			}
		}
		if target == nil {
			return "", fmt.Errorf("resourceFieldRef: no container %q", ref.ContainerName)
		}
	}
	return volumes.ResourceValue(target, ref)
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// expand replaces $(VAR) in s with VAR's value from env, as Kubernetes
// does: "$$" is an escaped "$", and an undefined $(VAR) stays as written.
func expand(s string, env map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; next {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := env[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
			b.WriteByte(next)
			i++
		}
	}
	return b.String()
}
