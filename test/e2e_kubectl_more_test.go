package test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// nightlyCronJob is suspended, so that the only Job is the one kubectl
// creates from it; its template has probes, resources, volumes, security
// contexts, env from other objects, affinity, tolerations and lifecycle
// hooks, all of which kubectl sends back as protobuf with the server's
// defaults.
const nightlyCronJob = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  suspend: true
  jobTemplate:
    spec:
      backoffLimit: 1
      template:
        metadata:
          labels:
            app: nightly
        spec:
          restartPolicy: Never
          securityContext:
            runAsUser: 1000
            fsGroup: 2000
          affinity:
            nodeAffinity:
              preferredDuringSchedulingIgnoredDuringExecution:
              - weight: 1
                preference:
                  matchExpressions:
                  - {key: kubernetes.io/os, operator: In, values: [linux]}
          tolerations:
          - {key: dedicated, operator: Exists, effect: NoSchedule}
          volumes:
          - name: scratch
            emptyDir: {}
          containers:
          - name: main
            image: docker.io/library/busybox:1.36
            command: ["sh", "-c", "echo done"]
            env:
            - name: POD
              valueFrom:
                fieldRef: {fieldPath: metadata.name}
            - name: MEM
              valueFrom:
                resourceFieldRef: {resource: limits.memory, divisor: 1Mi}
            resources:
              limits: {cpu: 200m, memory: 64Mi}
            volumeMounts:
            - {name: scratch, mountPath: /scratch}
            livenessProbe:
              exec: {command: ["true"]}
            readinessProbe:
              tcpSocket: {port: 8080}
            lifecycle:
              preStop:
                exec: {command: ["sh", "-c", "sleep 1"]}
            securityContext:
              allowPrivilegeEscalation: false
              capabilities: {drop: [ALL]}
`

const hpaV1Manifest = `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: api
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: kube-web}
  minReplicas: 1
  maxReplicas: 3
  targetCPUUtilizationPercentage: 40
`

// TestKubectlJobFromCronJobAndAutoscale: against `wharf up`, `kubectl
// create job --from=cronjob` makes a Job whose template is the CronJob's
// (and the Job controller acts on it); `kubectl autoscale` (autoscaling/v1)
// makes an autoscaler `kubectl get hpa` shows in v2 with the cpu target;
// `kubectl apply` of an autoscaling/v1 manifest creates and updates one.
func TestKubectlJobFromCronJobAndAutoscale(t *testing.T) {
	s := startServer(t, t.TempDir())
	k := newKubectl(t, s)

	t.Run("create job --from=cronjob", func(t *testing.T) {
		k.must(t, "apply", "-f", writeFile(t, "cronjob.yaml", nightlyCronJob))
		r := k.must(t, "create", "job", "manual", "--from=cronjob/nightly")
		if strings.TrimSpace(r.Stdout) != "job.batch/manual created" {
			t.Errorf("create job printed %s", r)
		}
		var want, got any
		if err := json.Unmarshal([]byte(k.must(t, "get", "cronjob", "nightly", "-o", "jsonpath={.spec.jobTemplate.spec.template.spec}").Stdout), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(k.must(t, "get", "job", "manual", "-o", "jsonpath={.spec.template.spec}").Stdout), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("the Job's template spec\n%v\ndiffers from the CronJob's\n%v", got, want)
		}
		poll(t, waitFor, "a Pod of Job manual", func() bool {
			return len(k.names(t, "pods", "-l", "job-name=manual")) > 0
		})
	})

	t.Run("autoscale", func(t *testing.T) {
		k.must(t, "apply", "-f", writeFile(t, "kube.yaml", kubectlManifest))
		r := k.must(t, "autoscale", "deployment", "kube-web", "--min=2", "--max=5", "--cpu-percent=50")
		if strings.TrimSpace(r.Stdout) != "horizontalpodautoscaler.autoscaling/kube-web autoscaled" {
			t.Errorf("autoscale printed %s", r)
		}
		y := k.must(t, "get", "hpa", "kube-web", "-o", "yaml").Stdout
		for _, want := range []string{"apiVersion: autoscaling/v2", "name: cpu", "averageUtilization: 50", "type: Utilization",
			"maxReplicas: 5", "minReplicas: 2", "name: kube-web"} {
			if !strings.Contains(y, want) {
				t.Errorf("kubectl get hpa -o yaml: no %q in\n%s", want, y)
			}
		}
		out := k.must(t, "get", "hpa").Stdout
		if h := header(out); len(h) < 3 || h[1] != "REFERENCE" || h[2] != "TARGETS" {
			t.Errorf("kubectl get hpa header %q", h)
		}
		if !strings.Contains(out, "Deployment/kube-web") || !strings.Contains(out, "50%") {
			t.Errorf("kubectl get hpa:\n%s", out)
		}
		d := k.must(t, "describe", "hpa", "kube-web").Stdout
		for _, want := range []string{"Reference:", "Deployment/kube-web", "Min replicas:", "2", "Max replicas:", "5"} {
			if !strings.Contains(d, want) {
				t.Errorf("kubectl describe hpa: no %q in\n%s", want, d)
			}
		}
	})

	t.Run("apply autoscaling/v1", func(t *testing.T) {
		p := writeFile(t, "hpa.yaml", hpaV1Manifest)
		if r := k.must(t, "apply", "-f", p); !strings.Contains(r.Stdout, "horizontalpodautoscaler.autoscaling/api created") {
			t.Errorf("first apply printed %s", r)
		}
		p = writeFile(t, "hpa.yaml", strings.Replace(hpaV1Manifest, "targetCPUUtilizationPercentage: 40", "targetCPUUtilizationPercentage: 60", 1))
		if r := k.must(t, "apply", "-f", p); !strings.Contains(r.Stdout, "horizontalpodautoscaler.autoscaling/api configured") {
			t.Errorf("second apply printed %s", r)
		}
		r := k.must(t, "get", "hpa", "api", "-o", "jsonpath={.apiVersion} {.spec.metrics[*].resource.name} {.spec.metrics[*].resource.target.averageUtilization}")
		if r.Stdout != "autoscaling/v2 cpu 60" {
			t.Errorf("after applying v1 twice: %q, want autoscaling/v2 cpu 60", r.Stdout)
		}
	})
}
