package history

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

func TestDataRoundTrip(t *testing.T) {
	tmpl := &types.PodTemplateSpec{
		ObjectMeta: types.ObjectMeta{Labels: map[string]string{"app": "db"}},
		Spec:       types.PodSpec{Containers: []types.Container{{Name: "c", Image: "db:1"}}},
	}
	data, err := Data(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"$patch":"replace"`) || !strings.HasPrefix(string(data), `{"spec":{"template":`) {
		t.Fatalf("data %s is not a replace patch of spec.template", data)
	}
	got, err := Template(&types.ControllerRevision{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, tmpl) {
		t.Fatalf("template %+v, want %+v", got, tmpl)
	}
	tests := []struct {
		name string
		a, b json.RawMessage
		want bool
	}{
		{"same bytes", data, data, true},
		{"reordered keys", json.RawMessage(`{"a":1,"b":2}`), json.RawMessage(`{"b":2, "a":1}`), true},
		{"different", json.RawMessage(`{"a":1}`), json.RawMessage(`{"a":2}`), false},
		{"invalid", json.RawMessage(`{`), json.RawMessage(`{}`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := equalData(tt.a, tt.b); got != tt.want {
				t.Fatalf("equalData(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestNextCollisionCount(t *testing.T) {
	one := int32(1)
	if got := *NextCollisionCount(nil); got != 1 {
		t.Fatalf("after none: %d, want 1", got)
	}
	if got := *NextCollisionCount(&one); got != 2 {
		t.Fatalf("after 1: %d, want 2", got)
	}
}
