package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

// An autoscaling/v1 HorizontalPodAutoscaler manifest, which kubectl sends
// to the v1 path, is applied by wharf as the autoscaling/v2 object the
// server stores: the cpu target becomes a Resource metric, and bad fields
// of the v1 document are still refused by name.
func TestManifestOfConvertedVersion(t *testing.T) {
	ms, err := decodeManifests("hpa.yaml", []byte(`apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: web
  labels: {app: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 5
  targetCPUUtilizationPercentage: 50
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 {
		t.Fatalf("%d manifests, want 1", len(ms))
	}
	m := ms[0]
	if m.res.APIVersion() != "autoscaling/v2" {
		t.Fatalf("resource %s, want autoscaling/v2", m.res.APIVersion())
	}
	hpa, ok := m.obj.(*types.HorizontalPodAutoscaler)
	if !ok {
		t.Fatalf("object is %T", m.obj)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].Resource == nil ||
		hpa.Spec.Metrics[0].Resource.Name != "cpu" ||
		hpa.Spec.Metrics[0].Resource.Target.AverageUtilization == nil ||
		*hpa.Spec.Metrics[0].Resource.Target.AverageUtilization != 50 {
		t.Fatalf("metrics = %+v, want cpu at 50%%", hpa.Spec.Metrics)
	}
	doc, err := json.Marshal(m.doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"apiVersion":"autoscaling/v2"`, `"averageUtilization":50`, `"labels":{"app":"web"}`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("applied document %s lacks %s", doc, want)
		}
	}
	for _, absent := range []string{`"status"`, `"annotations"`, `targetCPUUtilizationPercentage`} {
		if strings.Contains(string(doc), absent) {
			t.Errorf("applied document %s has %s", doc, absent)
		}
	}

	_, err = decodeManifests("bad.yaml", []byte(`apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  targetCPUUtilisationPercentage: 50
`))
	if err == nil || !strings.Contains(err.Error(), "targetCPUUtilisationPercentage") {
		t.Fatalf("misspelt field: err = %v, want it named", err)
	}
}
