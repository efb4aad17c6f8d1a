package server

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

// TestStrategicMergePatch checks the directives kubectl apply and edit
// send, against what Kubernetes' strategicpatch produces for the same
// documents.
func TestStrategicMergePatch(t *testing.T) {
	podT := reflect.TypeFor[types.Pod]()
	depT := reflect.TypeFor[types.Deployment]()
	const twoContainers = `{"metadata":{"name":"p","labels":{"a":"1","b":"2"},"finalizers":["x","y"]},
		"spec":{"containers":[
			{"name":"app","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
			{"name":"side","image":"busybox","args":["x","y"]}]}}`
	tests := []struct {
		name, doc, patch, want string
		typ                    reflect.Type
	}{
		{"map merge and null deletes", twoContainers,
			`{"metadata":{"labels":{"a":null,"c":"3"}}}`,
			`{"metadata":{"name":"p","labels":{"b":"2","c":"3"},"finalizers":["x","y"]},"spec":{"containers":[
				{"name":"app","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
				{"name":"side","image":"busybox","args":["x","y"]}]}}`, podT},
		{"merge list by key", twoContainers,
			`{"spec":{"containers":[{"name":"side","image":"busybox:2"}]}}`,
			`{"metadata":{"name":"p","labels":{"a":"1","b":"2"},"finalizers":["x","y"]},"spec":{"containers":[
				{"name":"app","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
				{"name":"side","image":"busybox:2","args":["x","y"]}]}}`, podT},
		{"nested merge list and new element", twoContainers,
			`{"spec":{"containers":[{"name":"app","env":[{"name":"B","value":"20"},{"name":"C","value":"3"}]}]}}`,
			`{"metadata":{"name":"p","labels":{"a":"1","b":"2"},"finalizers":["x","y"]},"spec":{"containers":[
				{"name":"app","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"20"},{"name":"C","value":"3"}]},
				{"name":"side","image":"busybox","args":["x","y"]}]}}`, podT},
		{"$patch delete element", twoContainers,
			`{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}`,
			`{"metadata":{"name":"p","labels":{"a":"1","b":"2"},"finalizers":["x","y"]},"spec":{"containers":[
				{"name":"app","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}`, podT},
		{"$patch replace list", twoContainers,
			`{"spec":{"containers":[{"name":"only","image":"x"},{"$patch":"replace"}]}}`,
			`{"metadata":{"name":"p","labels":{"a":"1","b":"2"},"finalizers":["x","y"]},"spec":{"containers":[{"name":"only","image":"x"}]}}`, podT},
		{"$patch replace map", twoContainers,
			`{"metadata":{"labels":{"z":"9","$patch":"replace"}}}`,
			`{"metadata":{"name":"p","labels":{"z":"9"},"finalizers":["x","y"]},"spec":{"containers":[
				{"name":"app","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
				{"name":"side","image":"busybox","args":["x","y"]}]}}`, podT},
		{"non-merge list replaced", twoContainers,
			`{"spec":{"containers":[{"name":"side","args":["z"]}]}}`,
			`{"metadata":{"name":"p","labels":{"a":"1","b":"2"},"finalizers":["x","y"]},"spec":{"containers":[
				{"name":"app","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
				{"name":"side","image":"busybox","args":["z"]}]}}`, podT},
		{"primitive merge list union and $deleteFromPrimitiveList", twoContainers,
			`{"metadata":{"finalizers":["z"],"$deleteFromPrimitiveList/finalizers":["x"]}}`,
			`{"metadata":{"name":"p","labels":{"a":"1","b":"2"},"finalizers":["y","z"]},"spec":{"containers":[
				{"name":"app","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
				{"name":"side","image":"busybox","args":["x","y"]}]}}`, podT},
		{"$setElementOrder", twoContainers,
			`{"spec":{"$setElementOrder/containers":[{"name":"side"},{"name":"app"}]}}`,
			`{"metadata":{"name":"p","labels":{"a":"1","b":"2"},"finalizers":["x","y"]},"spec":{"containers":[
				{"name":"side","image":"busybox","args":["x","y"]},
				{"name":"app","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}`, podT},
		{"$retainKeys on strategy", `{"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%"}}}}`,
			`{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null}}}`,
			`{"spec":{"strategy":{"type":"Recreate"}}}`, depT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := strategicMergePatch([]byte(tc.doc), []byte(tc.patch), tc.typ)
			if err != nil {
				t.Fatalf("patch: %v", err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("result %s: %v", got, err)
			}
			if err := json.Unmarshal([]byte(tc.want), &w); err != nil {
				t.Fatalf("want: %v", err)
			}
			if !reflect.DeepEqual(g, w) {
				gj, _ := json.Marshal(g)
				wj, _ := json.Marshal(w)
				t.Fatalf("got  %s\nwant %s", gj, wj)
			}
		})
	}
}

func TestStrategicMergePatchRejectsBadDirectives(t *testing.T) {
	podT := reflect.TypeFor[types.Pod]()
	for _, patch := range []string{
		`{"metadata":{"$patch":"explode"}}`,
		`{"spec":{"containers":[{"name":"x","$patch":"explode"}]}}`,
	} {
		if _, err := strategicMergePatch([]byte(`{"spec":{"containers":[{"name":"a"}]}}`), []byte(patch), podT); err == nil {
			t.Errorf("patch %s: no error", patch)
		}
	}
}
