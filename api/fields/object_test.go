package fields

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

// TestObjectFieldsMatchSupported holds ObjectFields and SupportedFields
// together for every registered kind.
func TestObjectFieldsMatchSupported(t *testing.T) {
	for _, r := range types.Resources() {
		t.Run(r.Kind, func(t *testing.T) {
			obj := r.New()
			if r.Namespaced {
				obj.GetObjectMeta().Namespace = "ns"
			}
			var got []string
			for k := range ObjectFields(obj) {
				got = append(got, k)
			}
			slices.Sort(got)
			if want := SupportedFields(r.Kind); !slices.Equal(got, want) {
				t.Errorf("ObjectFields keys = %v, SupportedFields = %v", got, want)
			}
		})
	}
}

func TestObjectFieldsValues(t *testing.T) {
	pod := &types.Pod{
		ObjectMeta: types.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       types.PodSpec{NodeName: "n1", RestartPolicy: types.RestartPolicyAlways, SchedulerName: "default-scheduler", ServiceAccountName: "sa"},
		Status:     types.PodStatus{Phase: types.PodRunning, PodIP: "10.0.0.5"},
	}
	event := &types.Event{
		ObjectMeta:          types.ObjectMeta{Name: "e1", Namespace: "default"},
		InvolvedObject:      types.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web", UID: "u1", APIVersion: "v1", ResourceVersion: "7", FieldPath: "spec.containers{app}"},
		Reason:              "Started",
		ReportingController: "wharf-agent",
		Type:                types.EventTypeNormal,
	}
	tests := []struct {
		name string
		obj  types.Object
		want Fields
	}{
		{"pod", pod, Fields{
			"metadata.name": "web", "metadata.namespace": "default", "spec.nodeName": "n1", "spec.restartPolicy": "Always",
			"spec.schedulerName": "default-scheduler", "spec.serviceAccountName": "sa", "spec.hostNetwork": "false",
			"status.phase": "Running", "status.podIP": "10.0.0.5",
		}},
		{"event", event, Fields{
			"metadata.name": "e1", "metadata.namespace": "default", "involvedObject.kind": "Pod", "involvedObject.namespace": "default",
			"involvedObject.name": "web", "involvedObject.uid": "u1", "involvedObject.apiVersion": "v1", "involvedObject.resourceVersion": "7",
			"involvedObject.fieldPath": "spec.containers{app}", "reason": "Started", "reportingComponent": "wharf-agent",
			"source": "wharf-agent", "type": "Normal",
		}},
		{"node", &types.Node{ObjectMeta: types.ObjectMeta{Name: "n1"}, Spec: types.NodeSpec{Unschedulable: true}},
			Fields{"metadata.name": "n1", "spec.unschedulable": "true"}},
		{"secret", &types.Secret{ObjectMeta: types.ObjectMeta{Name: "s", Namespace: "a"}, Type: types.SecretTypeTLS},
			Fields{"metadata.name": "s", "metadata.namespace": "a", "type": "kubernetes.io/tls"}},
		{"namespace", &types.Namespace{ObjectMeta: types.ObjectMeta{Name: "a"}, Status: types.NamespaceStatus{Phase: types.NamespaceTerminating}},
			Fields{"metadata.name": "a", "status.phase": "Terminating"}},
		{"configmap", &types.ConfigMap{ObjectMeta: types.ObjectMeta{Name: "c", Namespace: "a"}},
			Fields{"metadata.name": "c", "metadata.namespace": "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ObjectFields(tt.obj)
			if len(got) != len(tt.want) {
				t.Errorf("got %d fields %v, want %d", len(got), got, len(tt.want))
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}

	// The legacy source component wins over the reporting controller.
	event.Source.Component = "kubelet"
	if got := ObjectFields(event)["source"]; got != "kubelet" {
		t.Errorf("source = %q, want kubelet", got)
	}
	sel, err := Parse("spec.nodeName=n1,status.phase!=Failed")
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Matches(ObjectFields(pod)) {
		t.Error("pod does not match its own node selector")
	}
}

func TestValidateFor(t *testing.T) {
	tests := []struct {
		kind, sel string
		wantSub   string
	}{
		{"Pod", "spec.nodeName=n1,status.phase=Running,metadata.namespace=a", ""},
		{"Pod", "", ""},
		{"Pod", "spec.nodeNam=n1", `field "spec.nodeNam" is not supported for Pod (supported: metadata.name, metadata.namespace, spec.hostNetwork, spec.nodeName,`},
		{"Node", "metadata.namespace=x", `field "metadata.namespace" is not supported for Node (supported: metadata.name, spec.unschedulable)`},
		{"ConfigMap", "data.x=1", "(supported: metadata.name, metadata.namespace)"},
		{"Event", "involvedObject.name=web,type=Warning", ""},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.sel, func(t *testing.T) {
			sel, err := Parse(tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			err = ValidateFor(tt.kind, sel)
			if tt.wantSub == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalidSelector) || !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("err = %v, want containing %q", err, tt.wantSub)
			}
		})
	}
}
