package controllertest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// maxConflicts bounds the retries of Update and UpdateStatus: the
// controllers under test write the same objects, but not without end.
const maxConflicts = 20

// Update reads the object name through c, applies mutate and writes it
// back, reading again and retrying when the write conflicts with another;
// it returns the object written and fails the test on any other error.
func Update[T types.Object](t testing.TB, c *sdk.TypedClient[T], name string, mutate func(T)) T {
	t.Helper()
	out, err := TryUpdate(context.Background(), c, name, mutate)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// UpdateStatus is Update through the status subresource.
func UpdateStatus[T types.Object](t testing.TB, c *sdk.TypedClient[T], name string, mutate func(T)) T {
	t.Helper()
	out, err := TryUpdateStatus(context.Background(), c, name, mutate)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TryUpdate is Update returning its error (sdk.IsNotFound tells an
// object deleted meanwhile), for callers that expect some errors and for
// goroutines other than the test's.
func TryUpdate[T types.Object](ctx context.Context, c *sdk.TypedClient[T], name string, mutate func(T)) (T, error) {
	return retryConflicts(ctx, c, name, mutate, c.Update, "update")
}

// TryUpdateStatus is UpdateStatus returning its error, as TryUpdate.
func TryUpdateStatus[T types.Object](ctx context.Context, c *sdk.TypedClient[T], name string, mutate func(T)) (T, error) {
	return retryConflicts(ctx, c, name, mutate, c.UpdateStatus, "update status of")
}

func retryConflicts[T types.Object](ctx context.Context, c *sdk.TypedClient[T], name string, mutate func(T),
	write func(context.Context, T) (T, error), verb string) (T, error) {
	for attempt := 0; ; attempt++ {
		obj, err := c.Get(ctx, name)
		if err != nil {
			return obj, fmt.Errorf("get %q: %w", name, err)
		}
		mutate(obj)
		out, err := write(ctx, obj)
		if err == nil {
			return out, nil
		}
		if !sdk.IsConflict(err) || attempt >= maxConflicts {
			return out, fmt.Errorf("%s %q: %w", verb, name, err)
		}
	}
}

// Touch changes an annotation of the object name, so that the
// controllers watching it sync it again (a fake clock fires no timers).
func Touch[T types.Object](t testing.TB, c *sdk.TypedClient[T], name string) {
	t.Helper()
	Update(t, c, name, func(obj T) {
		m := obj.GetObjectMeta()
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		m.Annotations["test/touch"] = fmt.Sprint(time.Now().UnixNano())
	})
}

// WaitFor reads the object name through c until ok holds for it and
// returns it; past Eventually's bound it fails the test with what and the
// last status read.
func WaitFor[T types.Object](e *Env, c *sdk.TypedClient[T], name, what string, ok func(T) bool) T {
	e.T.Helper()
	var obj T
	e.Eventually(name+": "+what, func() (bool, error) {
		var err error
		if obj, err = c.Get(context.Background(), name); err != nil {
			return false, err
		}
		return ok(obj), fmt.Errorf("status %s", statusOf(obj))
	})
	return obj
}

// statusOf returns the JSON of obj's status (of all of obj when it has
// none), for failure messages.
func statusOf(obj types.Object) string {
	b, err := json.Marshal(obj)
	if err != nil {
		return fmt.Sprintf("%+v", obj)
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &fields) == nil && fields["status"] != nil {
		return string(fields["status"])
	}
	return string(b)
}
