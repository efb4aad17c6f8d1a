package validation

import (
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

func TestDefaultPod(t *testing.T) {
	p := &types.Pod{
		ObjectMeta: types.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: types.PodSpec{
			HostNetwork: true,
			Containers: []types.Container{{
				Name:  "app",
				Image: "registry.local:5000/app",
				Ports: []types.ContainerPort{{ContainerPort: 8080}},
				Env:   []types.EnvVar{{Name: "POD", ValueFrom: &types.EnvVarSource{FieldRef: &types.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
				LivenessProbe: &types.Probe{ProbeHandler: types.ProbeHandler{
					HTTPGet: &types.HTTPGetAction{Port: types.FromInt(8080)},
				}},
				Resources: types.ResourceRequirements{Limits: types.ResourceList{types.ResourceMemory: types.MustParse("64Mi")}},
			}},
			Volumes: []types.Volume{
				{Name: "s", VolumeSource: types.VolumeSource{Secret: &types.SecretVolumeSource{SecretName: "s"}}},
				{Name: "c", VolumeSource: types.VolumeSource{ConfigMap: &types.ConfigMapVolumeSource{LocalObjectReference: types.LocalObjectReference{Name: "c"}}}},
				{Name: "h", VolumeSource: types.VolumeSource{HostPath: &types.HostPathVolumeSource{Path: "/tmp"}}},
				{Name: "none"},
			},
		},
	}
	Default(p)
	s := p.Spec
	c := s.Containers[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"restartPolicy", s.RestartPolicy, types.RestartPolicyAlways},
		{"dnsPolicy", s.DNSPolicy, types.DNSClusterFirst},
		{"terminationGracePeriodSeconds", *s.TerminationGracePeriodSeconds, int64(30)},
		{"schedulerName", s.SchedulerName, "default-scheduler"},
		{"enableServiceLinks", *s.EnableServiceLinks, true},
		{"imagePullPolicy", c.ImagePullPolicy, types.PullAlways},
		{"terminationMessagePath", c.TerminationMessagePath, "/dev/termination-log"},
		{"terminationMessagePolicy", c.TerminationMessagePolicy, types.TerminationMessageReadFile},
		{"port protocol", c.Ports[0].Protocol, types.ProtocolTCP},
		{"hostPort from hostNetwork", c.Ports[0].HostPort, int32(8080)},
		{"fieldRef apiVersion", c.Env[0].ValueFrom.FieldRef.APIVersion, "v1"},
		{"probe periodSeconds", c.LivenessProbe.PeriodSeconds, int32(10)},
		{"probe timeoutSeconds", c.LivenessProbe.TimeoutSeconds, int32(1)},
		{"probe successThreshold", c.LivenessProbe.SuccessThreshold, int32(1)},
		{"probe failureThreshold", c.LivenessProbe.FailureThreshold, int32(3)},
		{"probe httpGet path", c.LivenessProbe.HTTPGet.Path, "/"},
		{"probe httpGet scheme", c.LivenessProbe.HTTPGet.Scheme, types.URISchemeHTTP},
		{"requests from limits", c.Resources.Requests.Memory().String(), "64Mi"},
		{"secret defaultMode", *s.Volumes[0].Secret.DefaultMode, int32(420)},
		{"configMap defaultMode", *s.Volumes[1].ConfigMap.DefaultMode, int32(420)},
		{"hostPath type", *s.Volumes[2].HostPath.Type, types.HostPathUnset},
		{"sourceless volume is emptyDir", s.Volumes[3].EmptyDir != nil, true},
		{"phase", p.Status.Phase, types.PodPending},
		{"qosClass", p.Status.QOSClass, types.PodQOSBurstable},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if errs := Validate(p); len(errs) != 0 {
		t.Errorf("defaulted pod does not validate: %v", errs)
	}

	// Set values are kept.
	q := &types.Pod{Spec: types.PodSpec{RestartPolicy: types.RestartPolicyNever, TerminationGracePeriodSeconds: ptr(int64(5)),
		Containers: []types.Container{{Name: "a", Image: "a:latest", ImagePullPolicy: types.PullNever}}}}
	Default(q)
	if q.Spec.RestartPolicy != types.RestartPolicyNever || *q.Spec.TerminationGracePeriodSeconds != 5 || q.Spec.Containers[0].ImagePullPolicy != types.PullNever {
		t.Errorf("Default overrode set values: %+v", q.Spec)
	}
}

func TestDefaultPullPolicy(t *testing.T) {
	tests := []struct {
		image string
		want  types.PullPolicy
	}{
		{"nginx", types.PullAlways},
		{"nginx:latest", types.PullAlways},
		{"nginx:1.27", types.PullIfNotPresent},
		{"registry.local:5000/team/app", types.PullAlways},
		{"registry.local:5000/team/app:v2", types.PullIfNotPresent},
		{"nginx@sha256:0123456789abcdef", types.PullIfNotPresent},
		{"https://example.com/mod.wasm", types.PullAlways},
		{"https://example.com/mod.wasm#sha256=abc", types.PullIfNotPresent},
		{"file:///opt/mod.wasm", types.PullAlways},
	}
	for _, tt := range tests {
		if got := defaultPullPolicy(tt.image); got != tt.want {
			t.Errorf("defaultPullPolicy(%q) = %s, want %s", tt.image, got, tt.want)
		}
	}
}

func TestQOSClass(t *testing.T) {
	rl := func(kv ...string) types.ResourceList {
		out := types.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			out[types.ResourceName(kv[i])] = types.MustParse(kv[i+1])
		}
		return out
	}
	tests := []struct {
		name     string
		req, lim []types.ResourceList
		want     types.PodQOSClass
	}{
		{"nothing", []types.ResourceList{nil}, []types.ResourceList{nil}, types.PodQOSBestEffort},
		{"equal", []types.ResourceList{rl("cpu", "1", "memory", "1Gi")}, []types.ResourceList{rl("cpu", "1000m", "memory", "1Gi")}, types.PodQOSGuaranteed},
		{"limits only cpu", []types.ResourceList{nil}, []types.ResourceList{rl("cpu", "1")}, types.PodQOSBurstable},
		{"request below limit", []types.ResourceList{rl("cpu", "500m", "memory", "1Gi")}, []types.ResourceList{rl("cpu", "1", "memory", "1Gi")}, types.PodQOSBurstable},
		{"one container without", []types.ResourceList{rl("cpu", "1", "memory", "1Gi"), nil}, []types.ResourceList{rl("cpu", "1", "memory", "1Gi"), nil}, types.PodQOSBurstable},
		{"two guaranteed", []types.ResourceList{rl("cpu", "1", "memory", "1Gi"), rl("cpu", "2", "memory", "1Gi")}, []types.ResourceList{rl("cpu", "1", "memory", "1Gi"), rl("cpu", "2", "memory", "1Gi")}, types.PodQOSGuaranteed},
		{"extended ignored", []types.ResourceList{rl("example.com/gpu", "1")}, []types.ResourceList{rl("example.com/gpu", "1")}, types.PodQOSBestEffort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var spec types.PodSpec
			for i := range tt.req {
				spec.Containers = append(spec.Containers, types.Container{Resources: types.ResourceRequirements{Requests: tt.req[i], Limits: tt.lim[i]}})
			}
			if got := QOSClass(&spec); got != tt.want {
				t.Errorf("QOSClass = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestValidatePod(t *testing.T) {
	c0 := "spec.containers[0]"
	tests := []struct {
		name   string
		mutate func(p *types.Pod)
		want   []string
	}{
		{"valid", func(p *types.Pod) {}, nil},
		{"no containers", func(p *types.Pod) { p.Spec.Containers = nil }, []string{"spec.containers:Required"}},
		{"image required", func(p *types.Pod) { p.Spec.Containers[0].Image = "" }, []string{c0 + ".image:Required"}},
		{"image whitespace", func(p *types.Pod) { p.Spec.Containers[0].Image = " nginx" }, []string{c0 + ".image:Invalid"}},
		{"container name", func(p *types.Pod) { p.Spec.Containers[0].Name = "App_1" }, []string{c0 + ".name:Invalid"}},
		{"container name required", func(p *types.Pod) { p.Spec.Containers[0].Name = "" }, []string{c0 + ".name:Required"}},
		{"duplicate container", func(p *types.Pod) {
			p.Spec.InitContainers = []types.Container{p.Spec.Containers[0]}
			p.Spec.InitContainers[0].ReadinessProbe = nil
		}, []string{c0 + ".name:Duplicate"}},
		{"init container probe", func(p *types.Pod) {
			ic := p.Spec.Containers[0]
			ic.Name = "init"
			p.Spec.InitContainers = []types.Container{ic}
		}, []string{"spec.initContainers[0].readinessProbe:Forbidden"}},
		{"restartPolicy", func(p *types.Pod) { p.Spec.RestartPolicy = "Sometimes" }, []string{"spec.restartPolicy:NotSupported"}},
		{"restartPolicy empty", func(p *types.Pod) { p.Spec.RestartPolicy = "" }, []string{"spec.restartPolicy:Required"}},
		{"dnsPolicy", func(p *types.Pod) { p.Spec.DNSPolicy = "Custom" }, []string{"spec.dnsPolicy:NotSupported"}},
		{"dnsPolicy None", func(p *types.Pod) { p.Spec.DNSPolicy = types.DNSNone }, []string{"spec.dnsPolicy:Invalid"}},
		{"imagePullPolicy", func(p *types.Pod) { p.Spec.Containers[0].ImagePullPolicy = "Sometimes" }, []string{c0 + ".imagePullPolicy:NotSupported"}},
		{"port range", func(p *types.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 70000 }, []string{c0 + ".ports[0].containerPort:Invalid"}},
		{"port required", func(p *types.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 0 }, []string{c0 + ".ports[0].containerPort:Required"}},
		{"hostPort range", func(p *types.Pod) { p.Spec.Containers[0].Ports[0].HostPort = -1 }, []string{c0 + ".ports[0].hostPort:Invalid"}},
		{"port protocol", func(p *types.Pod) { p.Spec.Containers[0].Ports[0].Protocol = "ICMP" }, []string{c0 + ".ports[0].protocol:NotSupported"}},
		{"port name", func(p *types.Pod) { p.Spec.Containers[0].Ports[0].Name = "http--x" }, []string{c0 + ".ports[0].name:Invalid"}},
		{"duplicate port name", func(p *types.Pod) {
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, types.ContainerPort{Name: "http", ContainerPort: 81, Protocol: types.ProtocolTCP})
		}, []string{c0 + ".ports[1].name:Duplicate"}},
		{"hostNetwork port mismatch", func(p *types.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports[0].HostPort = 8080
		}, []string{c0 + ".ports[0].hostPort:Invalid"}},
		{"env name", func(p *types.Pod) { p.Spec.Containers[0].Env[0].Name = "1BAD=" }, []string{c0 + ".env[0].name:Invalid"}},
		{"env name required", func(p *types.Pod) { p.Spec.Containers[0].Env[0].Name = "" }, []string{c0 + ".env[0].name:Required"}},
		{"env value and valueFrom", func(p *types.Pod) {
			p.Spec.Containers[0].Env[0].ValueFrom = &types.EnvVarSource{SecretKeyRef: &types.SecretKeySelector{LocalObjectReference: types.LocalObjectReference{Name: "s"}, Key: "k"}}
		}, []string{c0 + ".env[0].valueFrom:Invalid"}},
		{"env fieldRef unsupported", func(p *types.Pod) {
			p.Spec.Containers[0].Env[0] = types.EnvVar{Name: "X", ValueFrom: &types.EnvVarSource{FieldRef: &types.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.containers"}}}
		}, []string{c0 + ".env[0].valueFrom.fieldRef.fieldPath:NotSupported"}},
		{"env fieldRef label ok", func(p *types.Pod) {
			p.Spec.Containers[0].Env[0] = types.EnvVar{Name: "X", ValueFrom: &types.EnvVarSource{FieldRef: &types.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.labels['app']"}}}
		}, nil},
		{"env two sources", func(p *types.Pod) {
			p.Spec.Containers[0].Env[0] = types.EnvVar{Name: "X", ValueFrom: &types.EnvVarSource{
				FieldRef:        &types.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"},
				ConfigMapKeyRef: &types.ConfigMapKeySelector{LocalObjectReference: types.LocalObjectReference{Name: "c"}, Key: "k"},
			}}
		}, []string{c0 + ".env[0].valueFrom:Invalid"}},
		{"env key ref", func(p *types.Pod) {
			p.Spec.Containers[0].Env[0] = types.EnvVar{Name: "X", ValueFrom: &types.EnvVarSource{ConfigMapKeyRef: &types.ConfigMapKeySelector{Key: "a/b"}}}
		}, []string{c0 + ".env[0].valueFrom.configMapKeyRef.name:Required", c0 + ".env[0].valueFrom.configMapKeyRef.key:Invalid"}},
		{"resourceFieldRef", func(p *types.Pod) {
			p.Spec.Containers[0].Env[0] = types.EnvVar{Name: "X", ValueFrom: &types.EnvVarSource{ResourceFieldRef: &types.ResourceFieldSelector{Resource: "limits.gpu"}}}
		}, []string{c0 + ".env[0].valueFrom.resourceFieldRef.resource:NotSupported"}},
		{"envFrom none", func(p *types.Pod) { p.Spec.Containers[0].EnvFrom = []types.EnvFromSource{{}} }, []string{c0 + ".envFrom[0]:Invalid"}},
		{"negative quantity", func(p *types.Pod) {
			p.Spec.Containers[0].Resources.Limits[types.ResourceMemory] = types.MustParse("-1")
			p.Spec.Containers[0].Resources.Requests[types.ResourceMemory] = types.MustParse("-2")
		}, []string{c0 + ".resources.limits[memory]:Invalid", c0 + ".resources.requests[memory]:Invalid"}},
		{"requests above limits", func(p *types.Pod) {
			p.Spec.Containers[0].Resources.Requests[types.ResourceCPU] = types.MustParse("2")
		}, []string{c0 + ".resources.requests[cpu]:Invalid"}},
		{"bad resource name", func(p *types.Pod) {
			p.Spec.Containers[0].Resources.Limits["gpu"] = types.MustParse("1")
		}, []string{c0 + ".resources.limits[gpu]:Invalid"}},
		{"extended resource ok", func(p *types.Pod) {
			p.Spec.Containers[0].Resources.Limits["example.com/gpu"] = types.MustParse("1")
		}, nil},
		{"volumeMount unknown volume", func(p *types.Pod) { p.Spec.Containers[0].VolumeMounts[0].Name = "other" }, []string{c0 + ".volumeMounts[0].name:NotFound"}},
		{"volumeMount path", func(p *types.Pod) { p.Spec.Containers[0].VolumeMounts[0].MountPath = "" }, []string{c0 + ".volumeMounts[0].mountPath:Required"}},
		{"volumeMount duplicate path", func(p *types.Pod) {
			p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, types.VolumeMount{Name: "data", MountPath: "/data"})
		}, []string{c0 + ".volumeMounts[1].mountPath:Invalid"}},
		{"subPath escapes", func(p *types.Pod) { p.Spec.Containers[0].VolumeMounts[0].SubPath = "../x" }, []string{c0 + ".volumeMounts[0].subPath:Invalid"}},
		{"duplicate volume", func(p *types.Pod) { p.Spec.Volumes = append(p.Spec.Volumes, p.Spec.Volumes[0]) }, []string{"spec.volumes[1].name:Duplicate"}},
		{"volume name", func(p *types.Pod) {
			p.Spec.Volumes[0].Name = "Data"
			p.Spec.Containers[0].VolumeMounts = nil
		}, []string{"spec.volumes[0].name:Invalid"}},
		{"volume two sources", func(p *types.Pod) {
			p.Spec.Volumes[0].HostPath = &types.HostPathVolumeSource{Path: "/x", Type: ptr(types.HostPathUnset)}
		}, []string{"spec.volumes[0].emptyDir:Forbidden"}},
		{"volume no source", func(p *types.Pod) { p.Spec.Volumes[0].EmptyDir = nil }, []string{"spec.volumes[0]:Required"}},
		{"hostPath relative", func(p *types.Pod) {
			p.Spec.Volumes[0].VolumeSource = types.VolumeSource{HostPath: &types.HostPathVolumeSource{Path: "x"}}
		}, []string{"spec.volumes[0].hostPath.path:Invalid"}},
		{"secret volume", func(p *types.Pod) {
			p.Spec.Volumes[0].VolumeSource = types.VolumeSource{Secret: &types.SecretVolumeSource{DefaultMode: ptr(int32(0o1000)), Items: []types.KeyToPath{{Key: "k", Path: "/abs"}}}}
		}, []string{"spec.volumes[0].secret.secretName:Required", "spec.volumes[0].secret.defaultMode:Invalid", "spec.volumes[0].secret.items[0].path:Invalid"}},
		{"configMap volume", func(p *types.Pod) {
			p.Spec.Volumes[0].VolumeSource = types.VolumeSource{ConfigMap: &types.ConfigMapVolumeSource{Items: []types.KeyToPath{{Path: "a"}}}}
		}, []string{"spec.volumes[0].configMap.name:Required", "spec.volumes[0].configMap.items[0].key:Required"}},
		{"downwardAPI volume", func(p *types.Pod) {
			p.Spec.Volumes[0].VolumeSource = types.VolumeSource{DownwardAPI: &types.DownwardAPIVolumeSource{Items: []types.DownwardAPIVolumeFile{
				{Path: "name", FieldRef: &types.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}},
				{Path: "none"},
			}}}
		}, []string{"spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath:NotSupported", "spec.volumes[0].downwardAPI.items[1]:Required"}},
		{"projected volume", func(p *types.Pod) {
			p.Spec.Volumes[0].VolumeSource = types.VolumeSource{Projected: &types.ProjectedVolumeSource{Sources: []types.VolumeProjection{{}}}}
		}, []string{"spec.volumes[0].projected.sources[0]:Required"}},
		{"probe no handler", func(p *types.Pod) { p.Spec.Containers[0].ReadinessProbe.HTTPGet = nil }, []string{c0 + ".readinessProbe:Required"}},
		{"probe two handlers", func(p *types.Pod) {
			p.Spec.Containers[0].ReadinessProbe.Exec = &types.ExecAction{Command: []string{"true"}}
		}, []string{c0 + ".readinessProbe.httpGet:Forbidden"}},
		{"probe exec command", func(p *types.Pod) {
			p.Spec.Containers[0].ReadinessProbe.ProbeHandler = types.ProbeHandler{Exec: &types.ExecAction{}}
		}, []string{c0 + ".readinessProbe.exec.command:Required"}},
		{"probe port", func(p *types.Pod) { p.Spec.Containers[0].ReadinessProbe.HTTPGet.Port = types.FromInt(0) }, []string{c0 + ".readinessProbe.httpGet.port:Invalid"}},
		{"probe scheme", func(p *types.Pod) { p.Spec.Containers[0].ReadinessProbe.HTTPGet.Scheme = "FTP" }, []string{c0 + ".readinessProbe.httpGet.scheme:NotSupported"}},
		{"probe negative", func(p *types.Pod) { p.Spec.Containers[0].ReadinessProbe.InitialDelaySeconds = -1 }, []string{c0 + ".readinessProbe.initialDelaySeconds:Invalid"}},
		{"liveness successThreshold", func(p *types.Pod) {
			pr := *p.Spec.Containers[0].ReadinessProbe
			pr.SuccessThreshold = 2
			p.Spec.Containers[0].LivenessProbe = &pr
		}, []string{c0 + ".livenessProbe.successThreshold:Invalid"}},
		{"readiness grace", func(p *types.Pod) { p.Spec.Containers[0].ReadinessProbe.TerminationGracePeriodSeconds = ptr(int64(3)) }, []string{c0 + ".readinessProbe.terminationGracePeriodSeconds:Invalid"}},
		{"lifecycle handler", func(p *types.Pod) {
			p.Spec.Containers[0].Lifecycle = &types.Lifecycle{PreStop: &types.LifecycleHandler{}}
		}, []string{c0 + ".lifecycle.preStop:Required"}},
		{"privileged without escalation", func(p *types.Pod) {
			p.Spec.Containers[0].SecurityContext = &types.SecurityContext{Privileged: ptr(true), AllowPrivilegeEscalation: ptr(false)}
		}, []string{c0 + ".securityContext:Invalid"}},
		{"runAsUser", func(p *types.Pod) { p.Spec.SecurityContext.RunAsUser = ptr(int64(-1)) }, []string{"spec.securityContext.runAsUser:Invalid"}},
		{"grace negative", func(p *types.Pod) { p.Spec.TerminationGracePeriodSeconds = ptr(int64(-1)) }, []string{"spec.terminationGracePeriodSeconds:Invalid"}},
		{"activeDeadline zero", func(p *types.Pod) { p.Spec.ActiveDeadlineSeconds = ptr(int64(0)) }, []string{"spec.activeDeadlineSeconds:Invalid"}},
		{"nodeSelector", func(p *types.Pod) { p.Spec.NodeSelector = map[string]string{"kubernetes.io/arch": "arm 64"} }, []string{"spec.nodeSelector[kubernetes.io/arch]:Invalid"}},
		{"nodeName", func(p *types.Pod) { p.Spec.NodeName = "Node_1" }, []string{"spec.nodeName:Invalid"}},
		{"hostname", func(p *types.Pod) { p.Spec.Hostname = "a.b" }, []string{"spec.hostname:Invalid"}},
		{"toleration empty key", func(p *types.Pod) {
			p.Spec.Tolerations = []types.Toleration{{Operator: types.TolerationOpEqual, Value: "x"}}
		}, []string{"spec.tolerations[0].operator:Invalid"}},
		{"toleration exists with value", func(p *types.Pod) {
			p.Spec.Tolerations = []types.Toleration{{Key: "k", Operator: types.TolerationOpExists, Value: "x"}}
		}, []string{"spec.tolerations[0].operator:Invalid"}},
		{"toleration seconds", func(p *types.Pod) {
			p.Spec.Tolerations = []types.Toleration{{Key: "k", Effect: types.TaintEffectNoSchedule, TolerationSeconds: ptr(int64(5))}}
		}, []string{"spec.tolerations[0].effect:Invalid"}},
		{"toleration effect", func(p *types.Pod) {
			p.Spec.Tolerations = []types.Toleration{{Key: "k", Effect: "Sometimes"}}
		}, []string{"spec.tolerations[0].effect:NotSupported"}},
		{"node affinity", func(p *types.Pod) {
			p.Spec.Affinity = &types.Affinity{NodeAffinity: &types.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &types.NodeSelector{NodeSelectorTerms: []types.NodeSelectorTerm{{
					MatchExpressions: []types.NodeSelectorRequirement{
						{Key: "zone", Operator: types.NodeSelectorOpIn},
						{Key: "cores", Operator: types.NodeSelectorOpGt, Values: []string{"many"}},
						{Key: "x", Operator: "Near"},
					},
					MatchFields: []types.NodeSelectorRequirement{{Key: "metadata.labels", Operator: types.NodeSelectorOpIn, Values: []string{"a"}}},
				}}},
				PreferredDuringSchedulingIgnoredDuringExecution: []types.PreferredSchedulingTerm{{Weight: 0}},
			}}
		}, []string{
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values:Required",
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].values[0]:Invalid",
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[2].operator:NotSupported",
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key:NotSupported",
			"spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight:Invalid",
		}},
		{"empty node selector terms", func(p *types.Pod) {
			p.Spec.Affinity = &types.Affinity{NodeAffinity: &types.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &types.NodeSelector{}}}
		}, []string{"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms:Required"}},
		{"pod anti-affinity", func(p *types.Pod) {
			p.Spec.Affinity = &types.Affinity{PodAntiAffinity: &types.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []types.PodAffinityTerm{{
					LabelSelector: &types.LabelSelector{MatchExpressions: []types.LabelSelectorRequirement{{Key: "app", Operator: types.LabelSelectorOpExists, Values: []string{"x"}}}},
				}},
			}}
		}, []string{
			"spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey:Required",
			"spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values:Forbidden",
		}},
		{"topology spread", func(p *types.Pod) {
			p.Spec.TopologySpreadConstraints = []types.TopologySpreadConstraint{
				{MaxSkew: 0, TopologyKey: "zone", WhenUnsatisfiable: types.ScheduleAnyway, MinDomains: ptr(int32(2))},
				{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: types.ScheduleAnyway},
			}
		}, []string{"spec.topologySpreadConstraints[0].maxSkew:Invalid", "spec.topologySpreadConstraints[0].minDomains:Invalid", "spec.topologySpreadConstraints[1]:Duplicate"}},
		{"runtimeClassName", func(p *types.Pod) { p.Spec.RuntimeClassName = ptr("Bad Class") }, []string{"spec.runtimeClassName:Invalid"}},
		{"readiness gate", func(p *types.Pod) {
			p.Spec.ReadinessGates = []types.PodReadinessGate{{ConditionType: "bad gate"}}
		}, []string{"spec.readinessGates[0].conditionType:Invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			tt.mutate(p)
			expectErrors(t, Validate(p), tt.want...)
		})
	}
}

func TestValidateWasmPod(t *testing.T) {
	c0 := "spec.containers[0]"
	tests := []struct {
		name   string
		mutate func(p *types.Pod)
		want   []string
	}{
		{"plain wasm pod", func(p *types.Pod) {}, nil},
		{"exec probe", func(p *types.Pod) {
			p.Spec.Containers[0].LivenessProbe = &types.Probe{ProbeHandler: types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"check"}}}, SuccessThreshold: 1}
		}, []string{c0 + ".livenessProbe.exec:Forbidden"}},
		{"tcp probe", func(p *types.Pod) {
			p.Spec.Containers[0].ReadinessProbe.ProbeHandler = types.ProbeHandler{TCPSocket: &types.TCPSocketAction{Port: types.FromInt(80)}}
		}, []string{c0 + ".readinessProbe.tcpSocket:Forbidden"}},
		{"preStop exec", func(p *types.Pod) {
			p.Spec.Containers[0].Lifecycle = &types.Lifecycle{PreStop: &types.LifecycleHandler{Exec: &types.ExecAction{Command: []string{"x"}}}}
		}, []string{c0 + ".lifecycle.preStop.exec:Forbidden"}},
		{"privileged", func(p *types.Pod) {
			p.Spec.Containers[0].SecurityContext = &types.SecurityContext{Privileged: ptr(true)}
		}, []string{c0 + ".securityContext.privileged:Forbidden"}},
		{"capabilities add", func(p *types.Pod) {
			p.Spec.Containers[0].SecurityContext = &types.SecurityContext{Capabilities: &types.Capabilities{Add: []types.Capability{"NET_ADMIN"}, Drop: []types.Capability{"ALL"}}}
		}, []string{c0 + ".securityContext.capabilities.add:Forbidden"}},
		{"capabilities drop only", func(p *types.Pod) {
			p.Spec.Containers[0].SecurityContext = &types.SecurityContext{Capabilities: &types.Capabilities{Drop: []types.Capability{"ALL"}}}
		}, nil},
		{"hostPort", func(p *types.Pod) { p.Spec.Containers[0].Ports[0].HostPort = 8080 }, []string{c0 + ".ports[0].hostPort:Forbidden"}},
		{"hostNetwork", func(p *types.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports = nil
		}, []string{"spec.hostNetwork:Forbidden"}},
		{"stdin and tty", func(p *types.Pod) {
			p.Spec.Containers[0].Stdin = true
			p.Spec.Containers[0].TTY = true
		}, []string{c0 + ".stdin:Forbidden", c0 + ".tty:Forbidden"}},
		{"init container exec probe is forbidden anyway", func(p *types.Pod) {
			p.Spec.InitContainers = []types.Container{{Name: "init", Image: "file:///init.wasm", ImagePullPolicy: types.PullAlways, TerminationMessagePolicy: types.TerminationMessageReadFile, Stdin: true}}
		}, []string{"spec.initContainers[0].stdin:Forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			p.Spec.RuntimeClassName = ptr(WasmRuntimeClassName)
			p.Spec.Containers[0].Image = "https://example.com/app.wasm#sha256=00"
			tt.mutate(p)
			errs := Validate(p)
			expectErrors(t, errs, tt.want...)
			for _, e := range errs {
				if !strings.Contains(e.Detail, "not supported for runtimeClassName wasm") {
					t.Errorf("wasm error without the wasm explanation: %v", e)
				}
			}
		})
	}
	// The same features are fine for a container Pod.
	p := validPod()
	p.Spec.Containers[0].SecurityContext = &types.SecurityContext{Privileged: ptr(true), Capabilities: &types.Capabilities{Add: []types.Capability{"NET_ADMIN"}}}
	p.Spec.Containers[0].Ports[0].HostPort = 8080
	expectErrors(t, Validate(p))
}
