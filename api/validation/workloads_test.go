package validation

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

// decodeDefaulted decodes a manifest as the API server does on create
// (strictly), puts it in namespace "default" if its kind is namespaced,
// gives it a UID and fills the defaults.
func decodeDefaulted(t *testing.T, manifest string) types.Object {
	t.Helper()
	obj, err := types.Decode([]byte(manifest))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	m := obj.GetObjectMeta()
	if r, ok := types.ResourceForObject(obj); ok && r.Namespaced && m.Namespace == "" {
		m.Namespace = "default"
	}
	m.UID = "8f2c0f4e-5f5e-4a43-9b1c-2b7c1e0d3a11"
	Default(obj)
	return obj
}

// Manifests as users write them, or as `kubectl create ... --dry-run=client
// -o yaml` (kubectl 1.32) prints them. Each must be accepted once defaulted.
var validManifests = map[string]string{
	"kubectl create deployment": `
apiVersion: apps/v1
kind: Deployment
metadata:
  creationTimestamp: null
  labels:
    app: web
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  strategy: {}
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: web
    spec:
      containers:
      - image: nginx:1.27
        name: nginx
        ports:
        - containerPort: 80
        resources: {}
status: {}
`,
	"deployment recreate with matchExpressions": `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: db-proxy
spec:
  selector:
    matchLabels: {app: db-proxy}
    matchExpressions:
    - {key: tier, operator: In, values: [backend]}
  strategy:
    type: Recreate
  minReadySeconds: 5
  progressDeadlineSeconds: 60
  revisionHistoryLimit: 0
  template:
    metadata:
      labels: {app: db-proxy, tier: backend}
    spec:
      containers:
      - name: proxy
        image: registry.local:5000/proxy:v3
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
`,
	"deployment rolling update integers": `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 0
  selector: {matchLabels: {app: api}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: "api:1"}]
`,
	"replicaset": `
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: frontend
  labels: {app: guestbook, tier: frontend}
spec:
  replicas: 3
  selector:
    matchLabels: {tier: frontend}
  template:
    metadata:
      labels: {tier: frontend}
    spec:
      containers:
      - name: php-redis
        image: us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5
`,
	"statefulset": `
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: nginx
  serviceName: "nginx"
  replicas: 3
  minReadySeconds: 10
  template:
    metadata:
      labels:
        app: nginx
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.24
        ports:
        - containerPort: 80
          name: web
`,
	"statefulset parallel ondelete with ordinals": `
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: kv
spec:
  selector: {matchLabels: {app: kv}}
  serviceName: kv
  podManagementPolicy: Parallel
  updateStrategy: {type: OnDelete}
  ordinals: {start: 1}
  template:
    metadata: {labels: {app: kv}}
    spec:
      containers: [{name: kv, image: "kv:2"}]
`,
	"statefulset partitioned rolling update": `
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: zk
spec:
  selector: {matchLabels: {app: zk}}
  serviceName: zk-hs
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {partition: 2, maxUnavailable: "50%"}
  template:
    metadata: {labels: {app: zk}}
    spec:
      containers: [{name: zk, image: "zookeeper:3.9"}]
`,
	"daemonset": `
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd-elasticsearch
  namespace: kube-system
  labels:
    k8s-app: fluentd-logging
spec:
  selector:
    matchLabels:
      name: fluentd-elasticsearch
  template:
    metadata:
      labels:
        name: fluentd-elasticsearch
    spec:
      tolerations:
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      containers:
      - name: fluentd-elasticsearch
        image: quay.io/fluentd_elasticsearch/fluentd:v2.5.2
        resources:
          limits:
            memory: 200Mi
          requests:
            cpu: 100m
            memory: 200Mi
        volumeMounts:
        - name: varlog
          mountPath: /var/log
      terminationGracePeriodSeconds: 30
      volumes:
      - name: varlog
        hostPath:
          path: /var/log
`,
	"daemonset surge": `
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector: {matchLabels: {app: node-agent}}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 0, maxSurge: "10%"}
  template:
    metadata: {labels: {app: node-agent}}
    spec:
      hostNetwork: true
      containers: [{name: agent, image: "agent:1", ports: [{containerPort: 9100}]}]
`,
	"kubectl create job": `
apiVersion: batch/v1
kind: Job
metadata:
  creationTimestamp: null
  name: pi
spec:
  template:
    metadata:
      creationTimestamp: null
    spec:
      containers:
      - command:
        - perl
        - -e
        - print 1
        image: perl:5.34
        name: pi
        resources: {}
      restartPolicy: Never
status: {}
`,
	"indexed job": `
apiVersion: batch/v1
kind: Job
metadata:
  name: indexed
spec:
  completions: 5
  parallelism: 3
  completionMode: Indexed
  ttlSecondsAfterFinished: 100
  activeDeadlineSeconds: 600
  template:
    metadata:
      labels: {team: data}
    spec:
      restartPolicy: OnFailure
      containers:
      - name: worker
        image: busybox:1.36
        command: ["sh", "-c", "echo $JOB_COMPLETION_INDEX"]
`,
	"job with manual selector": `
apiVersion: batch/v1
kind: Job
metadata:
  name: adopt
spec:
  manualSelector: true
  selector: {matchLabels: {run: adopt}}
  suspend: true
  template:
    metadata: {labels: {run: adopt}}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: "busybox:1.36"}]
`,
	"kubectl create cronjob": `
apiVersion: batch/v1
kind: CronJob
metadata:
  creationTimestamp: null
  name: hello
spec:
  jobTemplate:
    metadata:
      creationTimestamp: null
      name: hello
    spec:
      template:
        metadata:
          creationTimestamp: null
        spec:
          containers:
          - command:
            - date
            image: busybox:1.36
            name: hello
            resources: {}
          restartPolicy: OnFailure
  schedule: '*/1 * * * *'
status: {}
`,
	"cronjob with time zone and descriptor": `
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "@daily"
  timeZone: Europe/Berlin
  startingDeadlineSeconds: 200
  concurrencyPolicy: Replace
  successfulJobsHistoryLimit: 0
  failedJobsHistoryLimit: 0
  suspend: true
  jobTemplate:
    metadata:
      labels: {job: nightly}
    spec:
      backoffLimit: 0
      completions: 2
      template:
        spec:
          restartPolicy: Never
          containers: [{name: c, image: "report:1"}]
`,
	"cronjob every": `
apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "@every 90s"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: "tick:1"}]
`,
	"hpa autoscaling v2": `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: php-apache
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: php-apache
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 50
  - type: Resource
    resource:
      name: memory
      target:
        type: AverageValue
        averageValue: 500Mi
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
      policies:
      - type: Percent
        value: 10
        periodSeconds: 60
    scaleUp:
      selectPolicy: Disabled
`,
	"hpa without metrics": `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
`,
	"kubectl create ingress": `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  creationTimestamp: null
  name: web
spec:
  ingressClassName: nginx
  rules:
  - host: example.com
    http:
      paths:
      - backend:
          service:
            name: api
            port:
              number: 80
        path: /api
        pathType: Prefix
      - backend:
          service:
            name: web
            port:
              name: http
        path: /
        pathType: Exact
  tls:
  - hosts:
    - example.com
    secretName: web-tls
status:
  loadBalancer: {}
`,
	"ingress default backend and wildcard": `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: catch-all
spec:
  defaultBackend:
    service: {name: fallback, port: {number: 8080}}
  rules:
  - host: "*.apps.example.com"
    http:
      paths:
      - {pathType: ImplementationSpecific, backend: {service: {name: apps, port: {name: http}}}}
  - http:
      paths:
      - {path: /healthz, pathType: Exact, backend: {service: {name: health, port: {number: 80}}}}
`,
	"runtimeclass": `
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: wasm
handler: wasm
overhead:
  podFixed: {cpu: 10m, memory: 16Mi}
scheduling:
  nodeSelector: {wharf.dev/runtime-wasm: "true"}
  tolerations: [{key: wasm-only, operator: Exists, effect: NoSchedule}]
`,
}

func TestValidManifestsHaveNoErrors(t *testing.T) {
	for name, manifest := range validManifests {
		t.Run(name, func(t *testing.T) {
			obj := decodeDefaulted(t, manifest)
			if errs := Validate(obj); len(errs) != 0 {
				t.Errorf("Validate: %v", errs)
			}
			// Re-applying the stored object unchanged is an allowed update.
			again := types.Clone(obj)
			if errs := ValidateUpdate(again, obj); len(errs) != 0 {
				t.Errorf("ValidateUpdate with no change: %v", errs)
			}
		})
	}
}

// The workload manifests in examples/ are what the README tells users to
// apply.
func TestExampleWorkloadsValidate(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := types.DecodeAll(data)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			for _, obj := range objs {
				m := obj.GetObjectMeta()
				if r, ok := types.ResourceForObject(obj); ok && r.Namespaced {
					m.Namespace = "default"
				}
				m.UID = "0b6c5b8e-8f8e-4d0e-a6a4-5d0f7b1b2c3d"
				Default(obj)
				if errs := Validate(obj); len(errs) != 0 {
					t.Errorf("%s %q: %v", obj.GetTypeMeta().Kind, m.Name, errs)
				}
			}
		})
	}
}

func TestDefaultDeployment(t *testing.T) {
	d := &types.Deployment{Spec: types.DeploymentSpec{Template: validTemplate(nil)}}
	Default(d)
	s := d.Spec
	checkFields(t, []fieldCheck{
		{"replicas", *s.Replicas, int32(1)},
		{"strategy type", s.Strategy.Type, types.RollingUpdateDeploymentStrategyType},
		{"maxUnavailable", *s.Strategy.RollingUpdate.MaxUnavailable, types.FromString("25%")},
		{"maxSurge", *s.Strategy.RollingUpdate.MaxSurge, types.FromString("25%")},
		{"revisionHistoryLimit", *s.RevisionHistoryLimit, int32(10)},
		{"progressDeadlineSeconds", *s.ProgressDeadlineSeconds, int32(600)},
		{"template restartPolicy", s.Template.Spec.RestartPolicy, types.RestartPolicyAlways},
	})

	t.Run("set values are kept", func(t *testing.T) {
		d := &types.Deployment{Spec: types.DeploymentSpec{
			Replicas:                ptr(int32(0)),
			Strategy:                types.DeploymentStrategy{RollingUpdate: &types.RollingUpdateDeployment{MaxSurge: ptr(types.FromInt32(2))}},
			RevisionHistoryLimit:    ptr(int32(0)),
			ProgressDeadlineSeconds: ptr(int32(30)),
		}}
		Default(d)
		s := d.Spec
		if *s.Replicas != 0 || *s.RevisionHistoryLimit != 0 || *s.ProgressDeadlineSeconds != 30 {
			t.Errorf("overrode set values: %+v", s)
		}
		if *s.Strategy.RollingUpdate.MaxSurge != types.FromInt32(2) || *s.Strategy.RollingUpdate.MaxUnavailable != types.FromString("25%") {
			t.Errorf("rollingUpdate = %+v, want maxSurge 2 kept and maxUnavailable 25%%", *s.Strategy.RollingUpdate)
		}
	})
	t.Run("recreate gets no rollingUpdate", func(t *testing.T) {
		d := &types.Deployment{Spec: types.DeploymentSpec{Strategy: types.DeploymentStrategy{Type: types.RecreateDeploymentStrategyType}}}
		Default(d)
		if d.Spec.Strategy.RollingUpdate != nil {
			t.Errorf("rollingUpdate = %+v, want nil", d.Spec.Strategy.RollingUpdate)
		}
	})
}

func TestDefaultReplicaSet(t *testing.T) {
	r := &types.ReplicaSet{}
	Default(r)
	if r.Spec.Replicas == nil || *r.Spec.Replicas != 1 {
		t.Errorf("replicas = %v, want 1", r.Spec.Replicas)
	}
	r = &types.ReplicaSet{Spec: types.ReplicaSetSpec{Replicas: ptr(int32(0))}}
	Default(r)
	if *r.Spec.Replicas != 0 {
		t.Errorf("replicas 0 overridden with %d", *r.Spec.Replicas)
	}
}

func TestDefaultStatefulSet(t *testing.T) {
	ss := &types.StatefulSet{}
	Default(ss)
	s := ss.Spec
	checkFields(t, []fieldCheck{
		{"replicas", *s.Replicas, int32(1)},
		{"podManagementPolicy", s.PodManagementPolicy, types.OrderedReadyPodManagement},
		{"updateStrategy type", s.UpdateStrategy.Type, types.RollingUpdateStatefulSetStrategyType},
		{"partition", *s.UpdateStrategy.RollingUpdate.Partition, int32(0)},
		{"maxUnavailable unset (alpha in Kubernetes)", s.UpdateStrategy.RollingUpdate.MaxUnavailable == nil, true},
		{"revisionHistoryLimit", *s.RevisionHistoryLimit, int32(10)},
		{"template dnsPolicy", s.Template.Spec.DNSPolicy, types.DNSClusterFirst},
	})

	tests := []struct {
		name     string
		strategy types.StatefulSetUpdateStrategy
		want     types.StatefulSetUpdateStrategy
	}{
		{"OnDelete is kept", types.StatefulSetUpdateStrategy{Type: types.OnDeleteStatefulSetStrategyType},
			types.StatefulSetUpdateStrategy{Type: types.OnDeleteStatefulSetStrategyType}},
		// As in Kubernetes, RollingUpdate set without rollingUpdate stays
		// so (the controller treats it as partition 0).
		{"RollingUpdate without parameters", types.StatefulSetUpdateStrategy{Type: types.RollingUpdateStatefulSetStrategyType},
			types.StatefulSetUpdateStrategy{Type: types.RollingUpdateStatefulSetStrategyType}},
		{"partition set is kept", types.StatefulSetUpdateStrategy{Type: types.RollingUpdateStatefulSetStrategyType, RollingUpdate: &types.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(3))}},
			types.StatefulSetUpdateStrategy{Type: types.RollingUpdateStatefulSetStrategyType, RollingUpdate: &types.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(3))}}},
		{"partition filled", types.StatefulSetUpdateStrategy{Type: types.RollingUpdateStatefulSetStrategyType, RollingUpdate: &types.RollingUpdateStatefulSetStrategy{}},
			types.StatefulSetUpdateStrategy{Type: types.RollingUpdateStatefulSetStrategyType, RollingUpdate: &types.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(0))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := &types.StatefulSet{Spec: types.StatefulSetSpec{UpdateStrategy: tt.strategy, PodManagementPolicy: types.ParallelPodManagement, Replicas: ptr(int32(0)), RevisionHistoryLimit: ptr(int32(2))}}
			Default(ss)
			if !jsonEqual(ss.Spec.UpdateStrategy, tt.want) {
				t.Errorf("updateStrategy = %s, want %s", jsonString(ss.Spec.UpdateStrategy), jsonString(tt.want))
			}
			if ss.Spec.PodManagementPolicy != types.ParallelPodManagement || *ss.Spec.Replicas != 0 || *ss.Spec.RevisionHistoryLimit != 2 {
				t.Errorf("overrode set values: %+v", ss.Spec)
			}
		})
	}
}

func TestDefaultDaemonSet(t *testing.T) {
	ds := &types.DaemonSet{}
	Default(ds)
	s := ds.Spec
	if s.UpdateStrategy.Type != types.RollingUpdateDaemonSetStrategyType {
		t.Errorf("updateStrategy type = %q", s.UpdateStrategy.Type)
	}
	ru := s.UpdateStrategy.RollingUpdate
	if ru == nil || *ru.MaxUnavailable != types.FromInt32(1) || *ru.MaxSurge != types.FromInt32(0) {
		t.Errorf("rollingUpdate = %s, want maxUnavailable 1 maxSurge 0", jsonString(ru))
	}
	if *s.RevisionHistoryLimit != 10 {
		t.Errorf("revisionHistoryLimit = %d, want 10", *s.RevisionHistoryLimit)
	}

	ds = &types.DaemonSet{Spec: types.DaemonSetSpec{
		UpdateStrategy: types.DaemonSetUpdateStrategy{RollingUpdate: &types.RollingUpdateDaemonSet{MaxUnavailable: ptr(types.FromInt32(0)), MaxSurge: ptr(types.FromString("10%"))}},
	}}
	Default(ds)
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; *ru.MaxUnavailable != types.FromInt32(0) || *ru.MaxSurge != types.FromString("10%") {
		t.Errorf("overrode set values: %s", jsonString(ru))
	}
	ds = &types.DaemonSet{Spec: types.DaemonSetSpec{UpdateStrategy: types.DaemonSetUpdateStrategy{Type: types.OnDeleteDaemonSetStrategyType}}}
	Default(ds)
	if ds.Spec.UpdateStrategy.RollingUpdate != nil {
		t.Errorf("OnDelete got rollingUpdate %s", jsonString(ds.Spec.UpdateStrategy.RollingUpdate))
	}
}

func validDeployment() *types.Deployment {
	d := &types.Deployment{
		TypeMeta:   types.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"},
		ObjectMeta: types.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: types.DeploymentSpec{
			Selector: &types.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: validTemplate(map[string]string{"app": "web"}),
		},
	}
	Default(d)
	return d
}

func TestValidateDeployment(t *testing.T) {
	tests := []struct {
		name   string
		modify func(d *types.Deployment)
		want   []string
	}{
		{"valid", func(d *types.Deployment) {}, nil},
		{"selector does not match labels", func(d *types.Deployment) { d.Spec.Selector.MatchLabels["app"] = "other" },
			[]string{"spec.template.metadata.labels:Invalid"}},
		{"no selector", func(d *types.Deployment) { d.Spec.Selector = nil }, []string{"spec.selector:Required"}},
		{"empty selector", func(d *types.Deployment) { d.Spec.Selector = &types.LabelSelector{} }, []string{"spec.selector:Invalid"}},
		{"bad selector operator", func(d *types.Deployment) {
			d.Spec.Selector.MatchExpressions = []types.LabelSelectorRequirement{{Key: "app", Operator: "Is", Values: []string{"web"}}}
		}, []string{"spec.selector.matchExpressions[0].operator:NotSupported"}},
		{"restartPolicy Never", func(d *types.Deployment) { d.Spec.Template.Spec.RestartPolicy = types.RestartPolicyNever },
			[]string{"spec.template.spec.restartPolicy:NotSupported"}},
		{"activeDeadlineSeconds", func(d *types.Deployment) { d.Spec.Template.Spec.ActiveDeadlineSeconds = ptr(int64(5)) },
			[]string{"spec.template.spec.activeDeadlineSeconds:Forbidden"}},
		{"negative replicas", func(d *types.Deployment) { d.Spec.Replicas = ptr(int32(-1)) }, []string{"spec.replicas:Invalid"}},
		{"negative minReadySeconds", func(d *types.Deployment) { d.Spec.MinReadySeconds = -1 }, []string{"spec.minReadySeconds:Invalid"}},
		{"negative revisionHistoryLimit", func(d *types.Deployment) { d.Spec.RevisionHistoryLimit = ptr(int32(-1)) },
			[]string{"spec.revisionHistoryLimit:Invalid"}},
		{"progressDeadline not above minReadySeconds", func(d *types.Deployment) {
			d.Spec.MinReadySeconds = 30
			d.Spec.ProgressDeadlineSeconds = ptr(int32(30))
		}, []string{"spec.progressDeadlineSeconds:Invalid"}},
		{"maxUnavailable and maxSurge both 0", func(d *types.Deployment) {
			d.Spec.Strategy.RollingUpdate = &types.RollingUpdateDeployment{MaxUnavailable: ptr(types.FromInt32(0)), MaxSurge: ptr(types.FromString("0%"))}
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable:Invalid"}},
		{"maxUnavailable over 100%", func(d *types.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr(types.FromString("110%"))
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable:Invalid"}},
		// Kubernetes limits maxUnavailable only: a surge of 200% is valid.
		{"maxSurge over 100% is allowed", func(d *types.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(types.FromString("200%"))
		}, nil},
		{"malformed percent", func(d *types.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(types.FromString("half"))
		}, []string{"spec.strategy.rollingUpdate.maxSurge:Invalid"}},
		{"negative maxSurge", func(d *types.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(types.FromInt32(-1))
		}, []string{"spec.strategy.rollingUpdate.maxSurge:Invalid"}},
		{"recreate with rollingUpdate", func(d *types.Deployment) { d.Spec.Strategy.Type = types.RecreateDeploymentStrategyType },
			[]string{"spec.strategy.rollingUpdate:Forbidden"}},
		{"unknown strategy", func(d *types.Deployment) { d.Spec.Strategy.Type = "BlueGreen" }, []string{"spec.strategy.type:NotSupported"}},
		{"invalid template", func(d *types.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" },
			[]string{"spec.template.spec.containers[0].image:Required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDeployment()
			tt.modify(d)
			expectErrors(t, Validate(d), tt.want...)
		})
	}
}

func TestValidateDeploymentMessages(t *testing.T) {
	d := validDeployment()
	d.Spec.Selector.MatchLabels["app"] = "api"
	errs := Validate(d)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "`selector` does not match template `labels`") {
		t.Errorf("errors = %v, want the selector mismatch named", errs)
	}
	d = validDeployment()
	d.Spec.Template.Spec.RestartPolicy = types.RestartPolicyOnFailure
	if errs := Validate(d); len(errs) != 1 || !strings.Contains(errs[0].Error(), `supported values: "Always"`) {
		t.Errorf("errors = %v, want the supported restartPolicy named", errs)
	}
}

func TestValidateReplicaSet(t *testing.T) {
	valid := func() *types.ReplicaSet {
		r := &types.ReplicaSet{
			ObjectMeta: types.ObjectMeta{Name: "web-5d8f", Namespace: "default"},
			Spec: types.ReplicaSetSpec{
				Selector: &types.LabelSelector{MatchLabels: map[string]string{"app": "web", "pod-template-hash": "5d8f"}},
				Template: validTemplate(map[string]string{"app": "web", "pod-template-hash": "5d8f"}),
			},
		}
		Default(r)
		return r
	}
	tests := []struct {
		name   string
		modify func(r *types.ReplicaSet)
		want   []string
	}{
		{"valid", func(r *types.ReplicaSet) {}, nil},
		{"selector mismatch", func(r *types.ReplicaSet) { delete(r.Spec.Template.Labels, "pod-template-hash") },
			[]string{"spec.template.metadata.labels:Invalid"}},
		{"empty selector", func(r *types.ReplicaSet) { r.Spec.Selector = &types.LabelSelector{} }, []string{"spec.selector:Invalid"}},
		{"restartPolicy OnFailure", func(r *types.ReplicaSet) { r.Spec.Template.Spec.RestartPolicy = types.RestartPolicyOnFailure },
			[]string{"spec.template.spec.restartPolicy:NotSupported"}},
		{"negative replicas", func(r *types.ReplicaSet) { r.Spec.Replicas = ptr(int32(-3)) }, []string{"spec.replicas:Invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid()
			tt.modify(r)
			expectErrors(t, Validate(r), tt.want...)
		})
	}
}

func validStatefulSet() *types.StatefulSet {
	ss := &types.StatefulSet{
		TypeMeta:   types.TypeMeta{Kind: "StatefulSet", APIVersion: "apps/v1"},
		ObjectMeta: types.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: types.StatefulSetSpec{
			ServiceName: "db",
			Selector:    &types.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template:    validTemplate(map[string]string{"app": "db"}),
		},
	}
	Default(ss)
	return ss
}

func TestValidateStatefulSet(t *testing.T) {
	tests := []struct {
		name   string
		modify func(ss *types.StatefulSet)
		want   []string
	}{
		{"valid", func(ss *types.StatefulSet) {}, nil},
		{"selector mismatch", func(ss *types.StatefulSet) { ss.Spec.Template.Labels = map[string]string{"app": "web"} },
			[]string{"spec.template.metadata.labels:Invalid"}},
		{"no selector", func(ss *types.StatefulSet) { ss.Spec.Selector = nil }, []string{"spec.selector:Required"}},
		{"empty selector", func(ss *types.StatefulSet) { ss.Spec.Selector = &types.LabelSelector{} }, []string{"spec.selector:Invalid"}},
		{"restartPolicy Never", func(ss *types.StatefulSet) { ss.Spec.Template.Spec.RestartPolicy = types.RestartPolicyNever },
			[]string{"spec.template.spec.restartPolicy:NotSupported"}},
		{"activeDeadlineSeconds", func(ss *types.StatefulSet) { ss.Spec.Template.Spec.ActiveDeadlineSeconds = ptr(int64(10)) },
			[]string{"spec.template.spec.activeDeadlineSeconds:Forbidden"}},
		{"negative replicas", func(ss *types.StatefulSet) { ss.Spec.Replicas = ptr(int32(-1)) }, []string{"spec.replicas:Invalid"}},
		{"negative partition", func(ss *types.StatefulSet) { ss.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(-1)) },
			[]string{"spec.updateStrategy.rollingUpdate.partition:Invalid"}},
		{"maxUnavailable 0", func(ss *types.StatefulSet) {
			ss.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr(types.FromInt32(0))
		},
			[]string{"spec.updateStrategy.rollingUpdate.maxUnavailable:Invalid"}},
		{"maxUnavailable over 100%", func(ss *types.StatefulSet) {
			ss.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr(types.FromString("101%"))
		}, []string{"spec.updateStrategy.rollingUpdate.maxUnavailable:Invalid"}},
		{"OnDelete with rollingUpdate", func(ss *types.StatefulSet) { ss.Spec.UpdateStrategy.Type = types.OnDeleteStatefulSetStrategyType },
			[]string{"spec.updateStrategy.rollingUpdate:Invalid"}},
		// Kubernetes reports these two as Invalid ("must be 'RollingUpdate'
		// or 'OnDelete'"); Wharf names the same field and values as
		// NotSupported.
		{"unknown update strategy", func(ss *types.StatefulSet) { ss.Spec.UpdateStrategy.Type = "Canary" },
			[]string{"spec.updateStrategy.type:NotSupported"}},
		{"unknown podManagementPolicy", func(ss *types.StatefulSet) { ss.Spec.PodManagementPolicy = "Random" },
			[]string{"spec.podManagementPolicy:NotSupported"}},
		{"negative ordinals start", func(ss *types.StatefulSet) { ss.Spec.Ordinals = &types.StatefulSetOrdinals{Start: -1} },
			[]string{"spec.ordinals.start:Invalid"}},
		{"negative minReadySeconds", func(ss *types.StatefulSet) { ss.Spec.MinReadySeconds = -1 }, []string{"spec.minReadySeconds:Invalid"}},
		// The Pods are named <name>-<ordinal> and get that as their
		// hostname: Kubernetes wants a DNS-1123 label.
		{"name with a dot", func(ss *types.StatefulSet) { ss.Name = "db.v1" }, []string{"metadata.name:Invalid"}},
		{"empty serviceName is allowed", func(ss *types.StatefulSet) { ss.Spec.ServiceName = "" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := validStatefulSet()
			tt.modify(ss)
			expectErrors(t, Validate(ss), tt.want...)
		})
	}
}

func validDaemonSet() *types.DaemonSet {
	ds := &types.DaemonSet{
		TypeMeta:   types.TypeMeta{Kind: "DaemonSet", APIVersion: "apps/v1"},
		ObjectMeta: types.ObjectMeta{Name: "agent", Namespace: "default"},
		Spec: types.DaemonSetSpec{
			Selector: &types.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: validTemplate(map[string]string{"app": "agent"}),
		},
	}
	Default(ds)
	return ds
}

func TestValidateDaemonSet(t *testing.T) {
	rolling := func(unavailable, surge types.IntOrString) func(ds *types.DaemonSet) {
		return func(ds *types.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate = &types.RollingUpdateDaemonSet{MaxUnavailable: &unavailable, MaxSurge: &surge}
		}
	}
	tests := []struct {
		name   string
		modify func(ds *types.DaemonSet)
		want   []string
	}{
		{"valid", func(ds *types.DaemonSet) {}, nil},
		{"surge instead of unavailable", rolling(types.FromInt32(0), types.FromString("25%")), nil},
		{"selector mismatch", func(ds *types.DaemonSet) { ds.Spec.Template.Labels = nil }, []string{"spec.template.metadata.labels:Invalid"}},
		{"empty selector", func(ds *types.DaemonSet) { ds.Spec.Selector = &types.LabelSelector{} }, []string{"spec.selector:Invalid"}},
		{"no selector", func(ds *types.DaemonSet) { ds.Spec.Selector = nil }, []string{"spec.selector:Required"}},
		{"restartPolicy Never", func(ds *types.DaemonSet) { ds.Spec.Template.Spec.RestartPolicy = types.RestartPolicyNever },
			[]string{"spec.template.spec.restartPolicy:NotSupported"}},
		{"activeDeadlineSeconds", func(ds *types.DaemonSet) { ds.Spec.Template.Spec.ActiveDeadlineSeconds = ptr(int64(10)) },
			[]string{"spec.template.spec.activeDeadlineSeconds:Invalid"}},
		{"both 0", rolling(types.FromInt32(0), types.FromString("0%")), []string{"spec.updateStrategy.rollingUpdate.maxUnavailable:Required"}},
		{"both set", rolling(types.FromInt32(1), types.FromInt32(1)), []string{"spec.updateStrategy.rollingUpdate.maxSurge:Invalid"}},
		{"maxUnavailable over 100%", rolling(types.FromString("150%"), types.FromInt32(0)),
			[]string{"spec.updateStrategy.rollingUpdate.maxUnavailable:Invalid"}},
		{"maxSurge over 100%", rolling(types.FromInt32(0), types.FromString("150%")),
			[]string{"spec.updateStrategy.rollingUpdate.maxSurge:Invalid"}},
		{"negative maxUnavailable", rolling(types.FromInt32(-1), types.FromInt32(0)),
			[]string{"spec.updateStrategy.rollingUpdate.maxUnavailable:Invalid"}},
		{"missing rollingUpdate", func(ds *types.DaemonSet) { ds.Spec.UpdateStrategy.RollingUpdate = nil },
			[]string{"spec.updateStrategy.rollingUpdate:Required"}},
		{"unknown strategy", func(ds *types.DaemonSet) { ds.Spec.UpdateStrategy.Type = "Surge" }, []string{"spec.updateStrategy.type:NotSupported"}},
		{"negative revisionHistoryLimit", func(ds *types.DaemonSet) { ds.Spec.RevisionHistoryLimit = ptr(int32(-1)) },
			[]string{"spec.revisionHistoryLimit:Invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := validDaemonSet()
			tt.modify(ds)
			expectErrors(t, Validate(ds), tt.want...)
		})
	}
}

func TestValidateAppsUpdate(t *testing.T) {
	otherSelector := &types.LabelSelector{MatchLabels: map[string]string{"app": "web", "track": "stable"}}
	otherLabels := map[string]string{"app": "web", "track": "stable"}
	tests := []struct {
		name string
		old  types.Object
		// update changes a copy of old.
		update func(obj types.Object)
		want   []string
	}{
		{"deployment scale and new image", validDeployment(), func(obj types.Object) {
			d := obj.(*types.Deployment)
			d.Spec.Replicas = ptr(int32(5))
			d.Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
			d.Spec.Strategy.Type = types.RecreateDeploymentStrategyType
			d.Spec.Strategy.RollingUpdate = nil
			d.Spec.Paused = true
		}, nil},
		{"deployment selector", validDeployment(), func(obj types.Object) {
			d := obj.(*types.Deployment)
			d.Spec.Selector, d.Spec.Template.Labels = otherSelector, otherLabels
		}, []string{"spec.selector:Invalid"}},
		{"replicaset selector", &types.ReplicaSet{ObjectMeta: types.ObjectMeta{Name: "rs", Namespace: "default"},
			Spec: types.ReplicaSetSpec{Selector: &types.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: validTemplate(map[string]string{"app": "web"})}},
			func(obj types.Object) {
				r := obj.(*types.ReplicaSet)
				r.Spec.Selector, r.Spec.Template.Labels = otherSelector, otherLabels
			}, []string{"spec.selector:Invalid"}},
		{"daemonset selector", validDaemonSet(), func(obj types.Object) {
			ds := obj.(*types.DaemonSet)
			ds.Spec.Selector, ds.Spec.Template.Labels = otherSelector, otherLabels
		}, []string{"spec.selector:Invalid"}},
		{"daemonset template and strategy", validDaemonSet(), func(obj types.Object) {
			ds := obj.(*types.DaemonSet)
			ds.Spec.Template.Spec.Containers[0].Image = "agent:2"
			ds.Spec.UpdateStrategy = types.DaemonSetUpdateStrategy{Type: types.OnDeleteDaemonSetStrategyType}
		}, nil},
		{"statefulset selector", validStatefulSet(), func(obj types.Object) {
			ss := obj.(*types.StatefulSet)
			ss.Spec.Selector, ss.Spec.Template.Labels = otherSelector, otherLabels
		}, []string{"spec:Forbidden"}},
		{"statefulset allowed fields", validStatefulSet(), func(obj types.Object) {
			ss := obj.(*types.StatefulSet)
			ss.Spec.Replicas = ptr(int32(5))
			ss.Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
			ss.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-11-23T12:00:00Z"}
			ss.Spec.UpdateStrategy = types.StatefulSetUpdateStrategy{Type: types.OnDeleteStatefulSetStrategyType}
			ss.Spec.MinReadySeconds = 10
			ss.Spec.Ordinals = &types.StatefulSetOrdinals{Start: 5}
			ss.Spec.RevisionHistoryLimit = ptr(int32(3))
		}, nil},
		{"statefulset serviceName", validStatefulSet(), func(obj types.Object) { obj.(*types.StatefulSet).Spec.ServiceName = "db-headless" },
			[]string{"spec:Forbidden"}},
		{"statefulset podManagementPolicy", validStatefulSet(), func(obj types.Object) {
			obj.(*types.StatefulSet).Spec.PodManagementPolicy = types.ParallelPodManagement
		}, []string{"spec:Forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Default(tt.old)
			obj := types.Clone(tt.old)
			tt.update(obj)
			expectErrors(t, ValidateUpdate(obj, tt.old), tt.want...)
		})
	}

	// Objects stored by a Wharf that did not default these kinds, updated
	// (scaled, given a new image) after it learnt to.
	t.Run("stored before defaulting", func(t *testing.T) {
		tmpl := types.PodTemplateSpec{ObjectMeta: types.ObjectMeta{Labels: map[string]string{"app": "db"}},
			Spec: types.PodSpec{Containers: []types.Container{{Name: "db", Image: "postgres:17"}}}}
		sel := &types.LabelSelector{MatchLabels: map[string]string{"app": "db"}}
		meta := types.ObjectMeta{Name: "db", Namespace: "default", UID: "u1"}
		olds := []types.Object{
			&types.StatefulSet{ObjectMeta: meta, Spec: types.StatefulSetSpec{Replicas: ptr(int32(1)), Selector: sel, Template: tmpl, ServiceName: "db"}},
			&types.DaemonSet{ObjectMeta: meta, Spec: types.DaemonSetSpec{Selector: sel, Template: tmpl}},
			&types.ReplicaSet{ObjectMeta: meta, Spec: types.ReplicaSetSpec{Replicas: ptr(int32(1)), Selector: sel, Template: tmpl}},
		}
		for _, old := range olds {
			obj := types.Clone(old)
			switch o := obj.(type) {
			case *types.StatefulSet:
				o.Spec.Replicas = ptr(int32(3))
				o.Spec.Template.Spec.Containers[0].Image = "postgres:17.1"
			case *types.ReplicaSet:
				o.Spec.Replicas = ptr(int32(3))
			case *types.DaemonSet:
				o.Spec.Template.Spec.Containers[0].Image = "postgres:17.1"
			}
			PrepareForUpdate(obj, old)
			Default(obj)
			if errs := ValidateUpdate(obj, old); len(errs) != 0 {
				t.Errorf("%T: %v", obj, errs)
			}
		}
		// A forbidden change is still found.
		old := olds[0].(*types.StatefulSet)
		ss := types.Clone(*old)
		ss.Spec.PodManagementPolicy = types.ParallelPodManagement
		Default(&ss)
		expectErrors(t, ValidateUpdate(&ss, old), "spec:Forbidden")
	})

	t.Run("statefulset message names the field", func(t *testing.T) {
		old := validStatefulSet()
		ss := types.Clone(*old)
		ss.Spec.ServiceName = "db-headless"
		errs := ValidateUpdate(&ss, old)
		if len(errs) != 1 || !strings.Contains(errs[0].Detail, "spec.serviceName") {
			t.Errorf("errors = %v, want the changed field spec.serviceName named", errs)
		}
	})
}

func TestValidateAppsStatusUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    types.Object
		status func(obj types.Object)
		want   []string
	}{
		{"deployment in the middle of a rollout", validDeployment(), func(obj types.Object) {
			d := obj.(*types.Deployment)
			d.Status = types.DeploymentStatus{ObservedGeneration: 2, Replicas: 4, UpdatedReplicas: 2, ReadyReplicas: 3, AvailableReplicas: 3, UnavailableReplicas: 1,
				Conditions: []types.DeploymentCondition{{Type: types.DeploymentProgressing, Status: types.ConditionTrue, Reason: "ReplicaSetUpdated"},
					{Type: types.DeploymentAvailable, Status: types.ConditionTrue, Reason: "MinimumReplicasAvailable"}}}
		}, nil},
		{"deployment negative counter", validDeployment(), func(obj types.Object) { obj.(*types.Deployment).Status.ReadyReplicas = -1 },
			[]string{"status.readyReplicas:Invalid"}},
		{"deployment condition without status", validDeployment(), func(obj types.Object) {
			obj.(*types.Deployment).Status.Conditions = []types.DeploymentCondition{{Type: types.DeploymentAvailable}}
		}, []string{"status.conditions[0].status:Required"}},
		{"deployment condition with bad status", validDeployment(), func(obj types.Object) {
			obj.(*types.Deployment).Status.Conditions = []types.DeploymentCondition{{Type: types.DeploymentAvailable, Status: "Yes"}}
		}, []string{"status.conditions[0].status:NotSupported"}},
		{"replicaset", &types.ReplicaSet{ObjectMeta: types.ObjectMeta{Name: "rs", Namespace: "default"}}, func(obj types.Object) {
			obj.(*types.ReplicaSet).Status = types.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 3, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: 1}
		}, nil},
		{"replicaset negative replicas", &types.ReplicaSet{ObjectMeta: types.ObjectMeta{Name: "rs", Namespace: "default"}}, func(obj types.Object) {
			obj.(*types.ReplicaSet).Status.Replicas = -1
		}, []string{"status.replicas:Invalid"}},
		{"statefulset", validStatefulSet(), func(obj types.Object) {
			obj.(*types.StatefulSet).Status = types.StatefulSetStatus{ObservedGeneration: 1, Replicas: 2, ReadyReplicas: 1, CurrentReplicas: 2, UpdatedReplicas: 0,
				CurrentRevision: "db-6c9f", UpdateRevision: "db-7d8e", CollisionCount: ptr(int32(0)), AvailableReplicas: 1}
		}, nil},
		{"statefulset negative collisionCount", validStatefulSet(), func(obj types.Object) {
			obj.(*types.StatefulSet).Status.CollisionCount = ptr(int32(-1))
		}, []string{"status.collisionCount:Invalid"}},
		{"daemonset", validDaemonSet(), func(obj types.Object) {
			obj.(*types.DaemonSet).Status = types.DaemonSetStatus{CurrentNumberScheduled: 3, DesiredNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3, NumberAvailable: 2, NumberUnavailable: 1}
		}, nil},
		{"daemonset negative", validDaemonSet(), func(obj types.Object) { obj.(*types.DaemonSet).Status.NumberMisscheduled = -2 },
			[]string{"status.numberMisscheduled:Invalid"}},
		{"metadata change", validDaemonSet(), func(obj types.Object) { obj.GetObjectMeta().Labels = map[string]string{"new": "label"} },
			[]string{"metadata.labels:Forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := types.Clone(tt.old)
			tt.status(obj)
			expectErrors(t, ValidateStatusUpdate(obj, tt.old), tt.want...)
		})
	}
}

// fieldCheck is one value a test expects, named for the failure message.
type fieldCheck struct {
	name      string
	got, want any
}

func checkFields(t *testing.T, checks []fieldCheck) {
	t.Helper()
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
