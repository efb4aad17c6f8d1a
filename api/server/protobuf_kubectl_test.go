package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// richCronJob has a Pod template using every kind of field kubectl copies
// into a Job: probes of each handler, resources, volumes of each source,
// pod and container security contexts, env from every source, envFrom,
// affinity, tolerations, topology spread, lifecycle hooks, init
// containers. The server defaults the rest (dnsPolicy, schedulerName,
// enableServiceLinks, terminationMessagePath, imagePullPolicy, probe
// thresholds ...), and kubectl sends all of it back as protobuf.
const richCronJob = `{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"rich","labels":{"app":"rich"}},
"spec":{"schedule":"*/5 * * * *","jobTemplate":{"metadata":{"labels":{"team":"a"},"annotations":{"note":"x"}},
"spec":{"backoffLimit":2,"activeDeadlineSeconds":600,"template":{"metadata":{"labels":{"app":"rich"}},"spec":{
 "restartPolicy":"OnFailure","hostname":"h","subdomain":"s","priority":0,
 "securityContext":{"runAsUser":1000,"runAsGroup":1000,"runAsNonRoot":true,"fsGroup":2000},
 "imagePullSecrets":[{"name":"regcred"}],
 "nodeSelector":{"kubernetes.io/os":"linux"},
 "affinity":{
  "nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"disk","operator":"In","values":["ssd"]}]}]},
   "preferredDuringSchedulingIgnoredDuringExecution":[{"weight":10,"preference":{"matchExpressions":[{"key":"zone","operator":"Exists"}]}}]},
  "podAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":5,"podAffinityTerm":{"labelSelector":{"matchLabels":{"app":"db"}},"topologyKey":"kubernetes.io/hostname"}}]},
  "podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["rich"]}]},"topologyKey":"kubernetes.io/hostname","namespaces":["default"]}]}},
 "tolerations":[{"key":"dedicated","operator":"Equal","value":"batch","effect":"NoSchedule"},{"operator":"Exists","effect":"NoExecute","tolerationSeconds":30}],
 "topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"ScheduleAnyway","labelSelector":{"matchLabels":{"app":"rich"}}}],
 "volumes":[{"name":"scratch","emptyDir":{}},{"name":"mem","emptyDir":{"medium":"Memory","sizeLimit":"64Mi"}},
  {"name":"cfg","configMap":{"name":"cfg","items":[{"key":"a","path":"a.txt","mode":256}],"defaultMode":420,"optional":true}},
  {"name":"sec","secret":{"secretName":"sec","defaultMode":256}},
  {"name":"host","hostPath":{"path":"/var/log","type":"Directory"}},
  {"name":"info","downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}},{"path":"cpu","resourceFieldRef":{"containerName":"main","resource":"limits.cpu","divisor":"1m"}}]}},
  {"name":"all","projected":{"sources":[{"configMap":{"name":"cfg"}},{"secret":{"name":"sec","items":[{"key":"k","path":"k"}]}},{"downwardAPI":{"items":[{"path":"name","fieldRef":{"fieldPath":"metadata.name"}}]}}]}}],
 "initContainers":[{"name":"init","image":"busybox","command":["sh","-c","true"]}],
 "containers":[{"name":"main","image":"busybox:1.36","command":["sh","-c"],"args":["sleep 5"],"workingDir":"/tmp",
  "ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],
  "env":[{"name":"PLAIN","value":"v"},{"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
   {"name":"MEM","valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"1Mi"}}},
   {"name":"CM","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"a","optional":true}}},
   {"name":"SEC","valueFrom":{"secretKeyRef":{"name":"sec","key":"k"}}}],
  "envFrom":[{"prefix":"CFG_","configMapRef":{"name":"cfg"}},{"secretRef":{"name":"sec","optional":false}}],
  "resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"250m","memory":"64Mi"}},
  "volumeMounts":[{"name":"scratch","mountPath":"/scratch"},{"name":"cfg","mountPath":"/cfg","readOnly":true,"subPath":"a.txt"}],
  "livenessProbe":{"httpGet":{"path":"/healthz","port":"http","httpHeaders":[{"name":"X-Probe","value":"1"}]},"initialDelaySeconds":3,"periodSeconds":7},
  "readinessProbe":{"tcpSocket":{"port":8080},"failureThreshold":5},
  "startupProbe":{"exec":{"command":["cat","/tmp/ok"]},"terminationGracePeriodSeconds":5},
  "lifecycle":{"postStart":{"exec":{"command":["sh","-c","echo hi"]}},"preStop":{"httpGet":{"path":"/stop","port":8080,"scheme":"HTTP"}}},
  "securityContext":{"capabilities":{"add":["NET_ADMIN"],"drop":["ALL"]},"privileged":false,"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"runAsUser":1001},
  "terminationMessagePolicy":"FallbackToLogsOnError","stdin":false,"tty":false}]}}}}}}`

// recordingProxy forwards to target and keeps the body and Content-Type of
// every POST.
type recordingProxy struct {
	url   string
	mu    sync.Mutex
	posts []recordedPost
}

type recordedPost struct {
	path, ctype string
	body        []byte
}

func newRecordingProxy(t *testing.T, target string) *recordingProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			p.mu.Lock()
			p.posts = append(p.posts, recordedPost{path: r.URL.Path, ctype: r.Header.Get("Content-Type"), body: body})
			p.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	p.url = hs.URL
	return p
}

// recorded returns the POSTs so far.
func (p *recordingProxy) recorded() []recordedPost {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]recordedPost(nil), p.posts...)
}

// TestKubectlCreateJobFromCronJob: `kubectl create job NAME
// --from=cronjob/CJ` copies the CronJob's jobTemplate as the server
// returned it (defaults included) and posts it as protobuf; the Job is
// created and its template is the CronJob's.
func TestKubectlCreateJobFromCronJob(t *testing.T) {
	e := newEnv(t)
	e.post(t, "/apis/batch/v1/namespaces/default/cronjobs", richCronJob).must(t, http.StatusCreated)
	proxy := newRecordingProxy(t, e.url)
	viaProxy := &env{url: proxy.url}
	if _, err := viaProxy.kubectl(t, "create", "job", "manual", "--from=cronjob/rich"); err != nil {
		t.Fatal(err)
	}
	posts := proxy.recorded()
	var sent *recordedPost
	for i, p := range posts {
		if strings.HasSuffix(p.path, "/jobs") {
			sent = &posts[i]
		}
	}
	if sent == nil || sent.ctype != "application/vnd.kubernetes.protobuf" {
		t.Fatalf("kubectl did not post the Job as protobuf: %+v", posts)
	}

	var cj, job map[string]any
	if err := json.Unmarshal(e.get(t, "/apis/batch/v1/namespaces/default/cronjobs/rich").must(t, http.StatusOK).body, &cj); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(e.get(t, "/apis/batch/v1/namespaces/default/jobs/manual").must(t, http.StatusOK).body, &job); err != nil {
		t.Fatal(err)
	}
	jt := lookup(cj, []any{"spec", "jobTemplate", "spec"}).(map[string]any)
	js := job["spec"].(map[string]any)
	if want, got := lookup(jt, []any{"template", "spec"}), lookup(js, []any{"template", "spec"}); !reflect.DeepEqual(got, want) {
		w, _ := json.MarshalIndent(want, "", " ")
		g, _ := json.MarshalIndent(got, "", " ")
		t.Fatalf("the Job's template spec differs from the CronJob's:\n%s\nwant\n%s", g, w)
	}
	for _, k := range []string{"backoffLimit", "activeDeadlineSeconds"} {
		if !reflect.DeepEqual(js[k], jt[k]) {
			t.Errorf("spec.%s = %v, the CronJob's is %v", k, js[k], jt[k])
		}
	}
	labels := lookup(js, []any{"template", "metadata", "labels"}).(map[string]any)
	if labels["app"] != "rich" {
		t.Errorf("template labels %v lack the CronJob's app=rich", labels)
	}
	if a := lookup(job, []any{"metadata", "annotations", "note"}); a != "x" {
		t.Errorf("metadata.annotations.note = %v, want the jobTemplate's x", a)
	}
	if refs, _ := lookup(job, []any{"metadata", "ownerReferences"}).([]any); len(refs) != 1 {
		t.Errorf("ownerReferences = %v, want the CronJob", refs)
	}
}
