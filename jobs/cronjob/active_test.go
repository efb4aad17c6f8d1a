package cronjob

import (
	"fmt"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// TestActiveRefs checks which owned Jobs status.active lists: only the
// unfinished runs the controller started, oldest start time first.
func TestActiveRefs(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	scheduled := func(name string, at time.Time) *types.Job {
		return &types.Job{ObjectMeta: types.ObjectMeta{
			Name: name, Namespace: "default", UID: "uid-" + name,
			Annotations:       map[string]string{ScheduledTimestampAnnotation: at.Format(time.RFC3339)},
			CreationTimestamp: types.NewTime(t0),
		}}
	}
	manual := func(name string) *types.Job {
		return &types.Job{ObjectMeta: types.ObjectMeta{
			Name: name, Namespace: "default", UID: "uid-" + name,
			Annotations:       map[string]string{InstantiateAnnotation: InstantiateManual, "team": "ops"},
			CreationTimestamp: types.NewTime(t0),
		}}
	}
	finished := func(j *types.Job, ct types.JobConditionType) *types.Job {
		j.Status.Conditions = []types.JobCondition{{Type: ct, Status: types.ConditionTrue}}
		return j
	}
	deleting := func(j *types.Job) *types.Job {
		now := types.NewTime(t0)
		j.DeletionTimestamp = &now
		return j
	}
	stray := &types.Job{ObjectMeta: types.ObjectMeta{Name: "stray", Namespace: "default", UID: "uid-stray"}}

	tests := []struct {
		name  string
		owned []*types.Job
		want  []string
	}{
		{"none", nil, nil},
		{"scheduled runs, oldest first", []*types.Job{scheduled("b", t0.Add(time.Minute)), scheduled("a", t0)}, []string{"a", "b"}},
		{"manual job running is not active", []*types.Job{manual("by-hand")}, nil},
		{"manual job beside a scheduled run", []*types.Job{manual("by-hand"), scheduled("a", t0)}, []string{"a"}},
		{"manual job carrying a scheduled timestamp", []*types.Job{func() *types.Job {
			j := manual("copied")
			j.Annotations[ScheduledTimestampAnnotation] = t0.Format(time.RFC3339)
			return j
		}()}, nil},
		{"job the controller did not start", []*types.Job{stray}, nil},
		{"finished and deleting runs", []*types.Job{
			finished(scheduled("done", t0), types.JobComplete),
			finished(scheduled("failed", t0), types.JobFailed),
			deleting(scheduled("going", t0)),
			scheduled("live", t0.Add(time.Minute)),
		}, []string{"live"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs := activeRefs(tt.owned)
			var got []string
			for _, r := range refs {
				if r.Kind != "Job" || r.APIVersion != "batch/v1" || r.Namespace != "default" || r.UID != "uid-"+r.Name {
					t.Errorf("reference %+v", r)
				}
				got = append(got, r.Name)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("active %v, want %v", got, tt.want)
			}
		})
	}
}
