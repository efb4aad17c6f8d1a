package deployment

import (
	"encoding/json"
	"maps"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
)

// Annotations a Deployment and its ReplicaSets carry, as in Kubernetes
// (kubectl rollout history and undo read them).
const (
	// RevisionAnnotation is the rollout revision of a ReplicaSet, and the
	// revision of a Deployment's current ReplicaSet.
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// RevisionHistoryAnnotation lists the earlier revisions a ReplicaSet
	// had (a rollback reuses the ReplicaSet with a new revision).
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	// DesiredReplicasAnnotation is the Deployment's replicas when the
	// ReplicaSet was last scaled (for proportional scaling).
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	// MaxReplicasAnnotation is replicas + maxSurge at that time.
	MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
	// ChangeCauseAnnotation is shown by rollout history.
	ChangeCauseAnnotation = "kubernetes.io/change-cause"
	// lastAppliedAnnotation is not copied to ReplicaSets.
	lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"
)

// Condition reasons, as kubectl rollout status and describe expect them.
const (
	ReasonNewRSAvailable    = "NewReplicaSetAvailable"
	ReasonRSUpdated         = "ReplicaSetUpdated"
	ReasonNewRSCreated      = "NewReplicaSetCreated"
	ReasonFoundNewRS        = "FoundNewReplicaSet"
	ReasonTimedOut          = "ProgressDeadlineExceeded"
	ReasonPaused            = "DeploymentPaused"
	ReasonResumed           = "DeploymentResumed"
	ReasonMinimumAvailable  = "MinimumReplicasAvailable"
	ReasonMinimumUnavailabe = "MinimumReplicasUnavailable"
	ReasonFailedRSCreate    = "ReplicaSetCreateError"
)

func replicasOf(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func rsReplicas(rs *types.ReplicaSet) int32 {
	if rs == nil {
		return 0
	}
	return replicasOf(rs.Spec.Replicas)
}

// Revision returns obj's revision annotation (0 when missing or bad).
func Revision(obj types.Object) int64 {
	v, err := strconv.ParseInt(obj.GetObjectMeta().Annotations[RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// maxRevision returns the highest revision among rss.
func maxRevision(rss []*types.ReplicaSet) int64 {
	var m int64
	for _, rs := range rss {
		m = max(m, Revision(rs))
	}
	return m
}

// withoutHash returns template's JSON form without the pod-template-hash
// label, to compare a Deployment's template with a ReplicaSet's.
func withoutHash(t *types.PodTemplateSpec) string {
	c := types.Clone(t)
	delete(c.Labels, controller.PodTemplateHashLabel)
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	b, _ := json.Marshal(c) // a template always marshals
	return string(b)
}

// EqualIgnoreHash reports whether two Pod templates are the same but for
// the pod-template-hash label.
func EqualIgnoreHash(a, b *types.PodTemplateSpec) bool { return withoutHash(a) == withoutHash(b) }

// findNewReplicaSet returns the oldest ReplicaSet whose template is the
// Deployment's, or nil.
func findNewReplicaSet(d *types.Deployment, rss []*types.ReplicaSet) *types.ReplicaSet {
	sorted := append([]*types.ReplicaSet(nil), rss...)
	sortByCreation(sorted)
	want := withoutHash(&d.Spec.Template)
	for _, rs := range sorted {
		if withoutHash(&rs.Spec.Template) == want {
			return rs
		}
	}
	return nil
}

// sortByCreation sorts oldest first (then by name).
func sortByCreation(rss []*types.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		a, b := rss[i].CreationTimestamp, rss[j].CreationTimestamp
		if !a.Equal(b.Time) {
			return a.Before(b.Time)
		}
		return rss[i].Name < rss[j].Name
	})
}

// resolveFenceposts returns maxSurge and maxUnavailable for desired
// replicas; both zero becomes maxUnavailable 1 (a rollout must be able to
// progress).
func resolveFenceposts(d *types.Deployment) (surge, unavailable int32) {
	ru := d.Spec.Strategy.RollingUpdate
	quarter := types.FromString("25%")
	ms, mu := &quarter, &quarter
	if ru != nil && ru.MaxSurge != nil {
		ms = ru.MaxSurge
	}
	if ru != nil && ru.MaxUnavailable != nil {
		mu = ru.MaxUnavailable
	}
	desired := int(replicasOf(d.Spec.Replicas))
	s, err := ms.ScaledValue(desired, true)
	if err != nil {
		s = 0
	}
	u, err := mu.ScaledValue(desired, false)
	if err != nil {
		u = 0
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u)
}

func isRolling(d *types.Deployment) bool {
	return d.Spec.Strategy.Type != types.RecreateDeploymentStrategyType
}

// maxSurge returns the surge allowed (0 for Recreate).
func maxSurge(d *types.Deployment) int32 {
	if !isRolling(d) {
		return 0
	}
	s, _ := resolveFenceposts(d)
	return s
}

// maxUnavailable returns the unavailable Pods allowed (0 for Recreate or
// no replicas), at most replicas.
func maxUnavailable(d *types.Deployment) int32 {
	n := replicasOf(d.Spec.Replicas)
	if !isRolling(d) || n == 0 {
		return 0
	}
	_, u := resolveFenceposts(d)
	return min(u, n)
}

// newRSNewReplicas returns the replicas the new ReplicaSet may have now.
func newRSNewReplicas(d *types.Deployment, all []*types.ReplicaSet, newRS *types.ReplicaSet) int32 {
	want := replicasOf(d.Spec.Replicas)
	if !isRolling(d) {
		return want
	}
	current := sumReplicas(all)
	maxTotal := want + maxSurge(d)
	if current >= maxTotal {
		return rsReplicas(newRS)
	}
	up := min(maxTotal-current, want-rsReplicas(newRS))
	return rsReplicas(newRS) + max(up, 0)
}

func sumReplicas(rss []*types.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += rsReplicas(rs)
	}
	return n
}

func filterActive(rss []*types.ReplicaSet) []*types.ReplicaSet {
	var out []*types.ReplicaSet
	for _, rs := range rss {
		if rsReplicas(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

// setReplicasAnnotations sets the desired and max replicas annotations;
// it reports whether they changed.
func setReplicasAnnotations(rs *types.ReplicaSet, desired, maxReplicas int32) bool {
	if hasReplicasAnnotations(rs, desired, maxReplicas) {
		return false
	}
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	rs.Annotations[DesiredReplicasAnnotation] = strconv.Itoa(int(desired))
	rs.Annotations[MaxReplicasAnnotation] = strconv.Itoa(int(maxReplicas))
	return true
}

// hasReplicasAnnotations reports whether rs carries these desired and max
// replicas annotations.
func hasReplicasAnnotations(rs *types.ReplicaSet, desired, maxReplicas int32) bool {
	return rs.Annotations[DesiredReplicasAnnotation] == strconv.Itoa(int(desired)) &&
		rs.Annotations[MaxReplicasAnnotation] == strconv.Itoa(int(maxReplicas))
}

// skipCopy are the Deployment annotations not copied to ReplicaSets.
var skipCopy = map[string]bool{
	lastAppliedAnnotation: true, RevisionAnnotation: true, RevisionHistoryAnnotation: true,
	DesiredReplicasAnnotation: true, MaxReplicasAnnotation: true,
}

// setNewRSAnnotations copies the Deployment's annotations to rs and sets
// its revision (keeping the previous one in revision-history); it reports
// whether rs changed.
func setNewRSAnnotations(d *types.Deployment, rs *types.ReplicaSet, revision int64) bool {
	before := maps.Clone(rs.Annotations)
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	for k, v := range d.Annotations {
		if !skipCopy[k] {
			rs.Annotations[k] = v
		}
	}
	old := Revision(rs)
	if old < revision {
		if old > 0 {
			h := rs.Annotations[RevisionHistoryAnnotation]
			if h != "" {
				h += ","
			}
			rs.Annotations[RevisionHistoryAnnotation] = h + strconv.FormatInt(old, 10)
		}
		rs.Annotations[RevisionAnnotation] = strconv.FormatInt(revision, 10)
	}
	return !maps.Equal(before, rs.Annotations)
}

// Conditions.

func getCondition(st *types.DeploymentStatus, t types.DeploymentConditionType) *types.DeploymentCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func newCondition(t types.DeploymentConditionType, s types.ConditionStatus, reason, msg string, now time.Time) types.DeploymentCondition {
	ts := types.NewTime(now.UTC().Truncate(time.Second))
	return types.DeploymentCondition{Type: t, Status: s, LastUpdateTime: ts, LastTransitionTime: ts, Reason: reason, Message: msg}
}

// setCondition sets c, keeping the existing one when status and reason are
// unchanged, and its transition time when only the reason changes.
func setCondition(st *types.DeploymentStatus, c types.DeploymentCondition) {
	cur := getCondition(st, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	removeCondition(st, c.Type)
	st.Conditions = append(st.Conditions, c)
}

func removeCondition(st *types.DeploymentStatus, t types.DeploymentConditionType) {
	out := st.Conditions[:0:0]
	for _, c := range st.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		out = nil
	}
	st.Conditions = out
}

func hasProgressDeadline(d *types.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != math.MaxInt32
}

// complete reports whether the Deployment's status shows every replica
// updated and available, for the latest generation.
func complete(d *types.Deployment, st *types.DeploymentStatus) bool {
	n := replicasOf(d.Spec.Replicas)
	return st.UpdatedReplicas == n && st.Replicas == n && st.AvailableReplicas == n && st.ObservedGeneration >= d.Generation
}

// progressing reports whether st shows progress over d.Status.
func progressing(d *types.Deployment, st *types.DeploymentStatus) bool {
	old := d.Status
	return st.UpdatedReplicas > old.UpdatedReplicas ||
		st.Replicas-st.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		st.ReadyReplicas > old.ReadyReplicas ||
		st.AvailableReplicas > old.AvailableReplicas
}

// timedOut reports whether the rollout has not progressed for
// progressDeadlineSeconds.
func timedOut(d *types.Deployment, st *types.DeploymentStatus, now time.Time) bool {
	if !hasProgressDeadline(d) {
		return false
	}
	c := getCondition(st, types.DeploymentProgressing)
	if c == nil || c.Reason == ReasonNewRSAvailable {
		return false
	}
	if c.Reason == ReasonTimedOut {
		return true
	}
	deadline := c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second)
	return deadline.Before(now)
}
