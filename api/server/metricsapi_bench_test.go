package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// benchPods is how many Pods the metrics list benchmark lists.
const benchPods = 1000

// benchPod is a Running Pod of two containers as an agent leaves it: a
// status with conditions and container states, the autoscaler's usage
// and the usage sample.
func benchPod(i int) *types.Pod {
	name := fmt.Sprintf("web-%04d", i)
	start := types.NewTime(fixedStart)
	sample := (&types.UsageSample{Timestamp: start, Window: types.Duration{Duration: 15 * time.Second},
		Containers: []types.ContainerMetrics{{Name: "app", Usage: usage("120m", "30Mi")}, {Name: "side", Usage: usage("3m", "4Mi")}}}).String()
	p := &types.Pod{
		TypeMeta: types.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: "default", UID: fmt.Sprintf("uid-%04d", i), CreationTimestamp: start,
			Labels:      map[string]string{"app": "web", "pod-template-hash": "7d4b9c"},
			Annotations: map[string]string{"wharf.dev/usage": "cpu=123m,memory=35651584", types.AnnotationUsageSample: sample}},
		Spec: types.PodSpec{NodeName: "node-1", RestartPolicy: types.RestartPolicyAlways, Containers: []types.Container{
			{Name: "app", Image: "registry.example.com/web:v1.2.3", Args: []string{"serve", "--port=8080"},
				Resources: types.ResourceRequirements{Requests: usage("100m", "64Mi"), Limits: usage("500m", "128Mi")}},
			{Name: "side", Image: "registry.example.com/proxy:v2", Resources: types.ResourceRequirements{Requests: usage("10m", "16Mi")}},
		}},
	}
	p.Status = types.PodStatus{Phase: types.PodRunning, HostIP: "10.0.0.1", PodIP: fmt.Sprintf("10.1.%d.%d", i/250, i%250+1), StartTime: &start}
	for _, c := range []types.PodConditionType{types.PodScheduled, types.PodInitialized, types.ContainersReady, types.PodReady} {
		p.Status.Conditions = append(p.Status.Conditions, types.PodCondition{Type: c, Status: types.ConditionTrue, LastTransitionTime: start})
	}
	for _, c := range p.Spec.Containers {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, types.ContainerStatus{Name: c.Name, Ready: true,
			Image: c.Image, ImageID: "sha256:0123456789abcdef", ContainerID: "wharf://" + p.UID + "-" + c.Name,
			State: types.ContainerState{Running: &types.ContainerStateRunning{StartedAt: start}}})
	}
	return p
}

// BenchmarkPodMetricsList measures listing the PodMetrics of 1,000
// Running Pods over real HTTP (what kubectl top pod asks), against the
// floor of listing the 1,000 Pods themselves in the same run. The two
// requests alternate, so that both see the same machine; each reports
// its median latency (pods-ms, podmetrics-ms) and their ratio
// (of-floor).
func BenchmarkPodMetricsList(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	for i := range benchPods {
		p := benchPod(i)
		value, err := json.Marshal(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.store.Create(ctx, "/registry/core/pods/default/"+p.Name, value); err != nil {
			b.Fatal(err)
		}
	}
	client := benchClient()
	fetch := func(path string) (time.Duration, int) {
		start := time.Now()
		res, err := client.Get(e.url + path)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: code %d", path, res.StatusCode)
		}
		return time.Since(start), int(n)
	}
	// Both lists hold every Pod.
	var l types.PodMetricsList
	e.get(b, metricsPath+"/namespaces/default/pods").must(b, http.StatusOK).into(b, &l)
	if len(l.Items) != benchPods {
		b.Fatalf("%d PodMetrics, want %d", len(l.Items), benchPods)
	}
	var podsT, metricsT []float64
	var podsBytes, metricsBytes int
	b.ResetTimer()
	for range b.N {
		d, n := fetch(podPath)
		podsT, podsBytes = append(podsT, d.Seconds()*1000), n
		d, n = fetch(metricsPath + "/namespaces/default/pods")
		metricsT, metricsBytes = append(metricsT, d.Seconds()*1000), n
	}
	b.StopTimer()
	pm, mm := medianMs(podsT), medianMs(metricsT)
	b.ReportMetric(pm, "pods-ms")
	b.ReportMetric(mm, "podmetrics-ms")
	b.ReportMetric(mm/pm, "of-floor")
	b.ReportMetric(float64(podsBytes)/1024, "pods-KiB")
	b.ReportMetric(float64(metricsBytes)/1024, "podmetrics-KiB")
	b.ReportMetric(0, "ns/op")
}

func medianMs(xs []float64) float64 {
	sort.Float64s(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}
