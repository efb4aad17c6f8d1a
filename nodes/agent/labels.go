package agent

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes"
)

// Labels the agent puts on every container, read back after a restart.
const (
	LabelPodNamespace = "wharf.dev/pod-namespace"
	LabelPodName      = "wharf.dev/pod-name"
	LabelPodUID       = "wharf.dev/pod-uid"
	LabelContainer    = "wharf.dev/container-name"
	LabelRestartCount = "wharf.dev/restart-count"
	// LabelInit is "true" on init containers.
	LabelInit = "wharf.dev/init-container"
	// LabelImage is the image as the Pod names it (a runtime may report
	// it normalized), to notice when the Pod's image is changed.
	LabelImage = "wharf.dev/image"
)

// instance is one container of a Pod as a runtime reports it.
type instance struct {
	rt      runtimes.Runtime
	info    runtimes.Info
	restart int32
}

// containerID is the runtime ID of a Pod's container at a restart count.
func containerID(uid, name string, restart int32) string {
	return fmt.Sprintf("%s-%s-%d", uid, name, restart)
}

// withoutIDs replaces in msg (an event or status message about a Pod's
// container) each quoted runtime ID of that container's instances,
// "<uid>-<name>-<restart>" as runtimes quote IDs in their errors, by the
// quoted container name: the kubelet's messages name the container, and
// Wharf's instance IDs are for operators' logs, not for users. Unquoted
// occurrences (inside a path, say) are left alone.
func withoutIDs(msg, uid, name string) string {
	if uid == "" || !strings.Contains(msg, uid) {
		return msg
	}
	prefix := `"` + uid + "-" + name + "-"
	var b strings.Builder
	for {
		i := strings.Index(msg, prefix)
		if i < 0 {
			break
		}
		j := i + len(prefix)
		k := j
		for k < len(msg) && msg[k] >= '0' && msg[k] <= '9' {
			k++
		}
		if k == j || k == len(msg) || msg[k] != '"' {
			b.WriteString(msg[:j]) // not a whole quoted ID
			msg = msg[j:]
			continue
		}
		b.WriteString(msg[:i])
		b.WriteString(strconv.Quote(name))
		msg = msg[k+1:]
	}
	b.WriteString(msg)
	return b.String()
}

// podImage is the image the instance was started from, as the Pod named it.
func (inst *instance) podImage() string {
	if img, ok := inst.info.Labels[LabelImage]; ok {
		return img
	}
	return inst.info.Image
}

// statusID is the containerID as shown in a status: "container://ID".
func statusID(inst *instance) string {
	return inst.rt.Name() + "://" + inst.info.ID
}

// containerLabels are the labels of a Pod's container.
func containerLabels(pod *types.Pod, c *types.Container, init bool, restart int32) map[string]string {
	name := c.Name
	l := map[string]string{
		LabelImage:        c.Image,
		LabelPodNamespace: pod.Namespace,
		LabelPodName:      pod.Name,
		LabelPodUID:       pod.UID,
		LabelContainer:    name,
		LabelRestartCount: strconv.Itoa(int(restart)),
	}
	if init {
		l[LabelInit] = "true"
	}
	return l
}

// listAll returns every container carrying the agent's labels, in every
// runtime. A runtime that fails to list is logged and skipped.
func (a *Agent) listAll(ctx context.Context) []*instance {
	return a.listMatching(ctx, nil)
}

// listMatching is listAll narrowed to the containers whose labels include
// labels, listed by the runtimes themselves where they can
// (runtimes.MatchLister): a Pod's sync then costs what its own containers
// cost, not what the node's do.
func (a *Agent) listMatching(ctx context.Context, labels map[string]string) []*instance {
	var out []*instance
	names := make([]string, 0, len(a.cfg.Runtimes))
	for n := range a.cfg.Runtimes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rt := a.cfg.Runtimes[n]
		var infos []runtimes.Info
		var err error
		if labels == nil {
			infos, err = rt.List(ctx) // in the runtime's order
		} else {
			infos, err = runtimes.ListMatching(ctx, rt, labels)
		}
		if err != nil {
			a.log.Warn("list containers", "runtime", n, "err", err)
			continue
		}
		for _, info := range infos {
			if info.Labels[LabelPodUID] == "" {
				continue // not ours
			}
			r, _ := strconv.Atoi(info.Labels[LabelRestartCount])
			out = append(out, &instance{rt: rt, info: info, restart: int32(r)})
		}
	}
	return out
}

// podContainers groups a Pod's containers by name, each list newest
// (highest restart count) first. others are containers under the same
// namespace/name that belong to another uid (an earlier Pod of that name).
func (a *Agent) podContainers(ctx context.Context, ns, name, uid string) (mine map[string][]*instance, others []*instance) {
	mine = map[string][]*instance{}
	for _, c := range a.listMatching(ctx, map[string]string{LabelPodNamespace: ns, LabelPodName: name}) {
		l := c.info.Labels
		if l[LabelPodNamespace] != ns || l[LabelPodName] != name {
			continue
		}
		if l[LabelPodUID] != uid {
			others = append(others, c)
			continue
		}
		mine[l[LabelContainer]] = append(mine[l[LabelContainer]], c)
	}
	for _, list := range mine {
		sort.Slice(list, func(i, j int) bool { return list[i].restart > list[j].restart })
	}
	return mine, others
}
