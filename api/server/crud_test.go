package server_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/api/types"
)

func TestCreateGetUpdateDelete(t *testing.T) {
	e := newEnv(t)
	var created types.ConfigMap
	e.post(t, cmPath, configMap("app", map[string]string{"tier": "web"}, map[string]string{"k": "v"})).must(t, http.StatusCreated).into(t, &created)
	if created.UID == "" || created.ResourceVersion == "" || !created.CreationTimestamp.Time.Equal(fixedStart) {
		t.Fatalf("server-owned fields not set: uid %q rv %q created %v", created.UID, created.ResourceVersion, created.CreationTimestamp)
	}
	if created.Namespace != "default" || created.Kind != "ConfigMap" || created.APIVersion != "v1" {
		t.Fatalf("created %s/%s in %q", created.APIVersion, created.Kind, created.Namespace)
	}

	var got types.ConfigMap
	e.get(t, cmPath+"/app").must(t, http.StatusOK).into(t, &got)
	if got.UID != created.UID || got.ResourceVersion != created.ResourceVersion || got.Data["k"] != "v" {
		t.Fatalf("get returned %+v, want the created object", got)
	}
	if rev := e.store.Revision(); strconv.FormatInt(rev, 10) != got.ResourceVersion {
		t.Fatalf("resourceVersion %s, store revision %d", got.ResourceVersion, rev)
	}

	// PUT replaces the object; uid and creationTimestamp are kept even if
	// the body leaves them out.
	upd := configMap("app", nil, map[string]string{"k": "v2"})
	upd["metadata"].(map[string]any)["resourceVersion"] = got.ResourceVersion
	var updated types.ConfigMap
	e.put(t, cmPath+"/app", upd).must(t, http.StatusOK).into(t, &updated)
	if updated.Data["k"] != "v2" || updated.UID != created.UID || updated.ResourceVersion == got.ResourceVersion ||
		!updated.CreationTimestamp.Time.Equal(fixedStart) {
		t.Fatalf("update returned %+v", updated)
	}

	var deleted types.ConfigMap
	e.del(t, cmPath+"/app", nil).must(t, http.StatusOK).into(t, &deleted)
	if deleted.Name != "app" {
		t.Fatalf("delete returned %s", deleted.Name)
	}
	e.get(t, cmPath+"/app").status(t, http.StatusNotFound, types.StatusReasonNotFound)
}

func TestCreateYAMLAndGenerateName(t *testing.T) {
	e := newEnv(t)
	body := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\ndata:\n  a: b\n"
	var cm types.ConfigMap
	e.send(t, req{method: http.MethodPost, path: cmPath, ctype: "application/yaml", body: body}).must(t, http.StatusCreated).into(t, &cm)
	if !strings.HasPrefix(cm.Name, "gen-") || len(cm.Name) != len("gen-")+5 || cm.Data["a"] != "b" {
		t.Fatalf("generated object %q data %v", cm.Name, cm.Data)
	}
	// YAML answers when asked for.
	r := e.send(t, req{method: http.MethodGet, path: cmPath + "/" + cm.Name, accept: "application/yaml"}).must(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/yaml" || !strings.Contains(string(r.body), "name: "+cm.Name) {
		t.Fatalf("yaml answer: %s %s", ct, r.body)
	}
}

// TestGeneratedNameTakenIsDrawnAgain: when the name drawn from
// generateName is taken, the server draws another and admits the object
// again with it, so defaults made from the name (a Job's job-name labels)
// follow; after 8 taken draws the create fails with AlreadyExists.
func TestGeneratedNameTakenIsDrawnAgain(t *testing.T) {
	var mu sync.Mutex
	draws := []string{"aaaaa", "aaaaa", "bbbbb"}
	e := newEnv(t, func(c *server.Config) {
		c.NameSuffix = func() string {
			mu.Lock()
			defer mu.Unlock()
			if len(draws) == 0 {
				return "aaaaa"
			}
			d := draws[0]
			draws = draws[1:]
			return d
		}
	})
	const jobs = "/apis/batch/v1/namespaces/default/jobs"
	body := `{"apiVersion":"batch/v1","kind":"Job","metadata":{"generateName":"run-"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"x"}]}}}}`
	var first, second types.Job
	e.send(t, req{method: http.MethodPost, path: jobs, body: body}).must(t, http.StatusCreated).into(t, &first)
	e.send(t, req{method: http.MethodPost, path: jobs, body: body}).must(t, http.StatusCreated).into(t, &second)
	if first.Name != "run-aaaaa" || second.Name != "run-bbbbb" {
		t.Fatalf("generated names %q, %q; want run-aaaaa then run-bbbbb (run-aaaaa drawn again and taken)", first.Name, second.Name)
	}
	for _, k := range []string{"job-name", "batch.kubernetes.io/job-name"} {
		if got := second.Spec.Template.Labels[k]; got != second.Name {
			t.Errorf("second Job's template label %s = %q, want its final name %q", k, got, second.Name)
		}
	}
	// The Job as stored can be updated (its labels agree with its name).
	second.Labels["touched"] = "yes"
	e.send(t, req{method: http.MethodPut, path: jobs + "/" + second.Name, body: &second}).must(t, http.StatusOK)

	// Every draw taken: AlreadyExists.
	r := e.send(t, req{method: http.MethodPost, path: jobs, body: body})
	r.must(t, http.StatusConflict)
	if !strings.Contains(string(r.body), "AlreadyExists") {
		t.Errorf("all draws taken: %s, want reason AlreadyExists", r.body)
	}
}

func TestGenerationBumpsOnSpecChangeOnly(t *testing.T) {
	e := newEnv(t)
	var d types.Deployment
	e.post(t, depPath, deployment("web", 1)).must(t, http.StatusCreated).into(t, &d)
	if d.Generation != 1 {
		t.Fatalf("generation %d after create, want 1", d.Generation)
	}
	e.patch(t, depPath+"/web", "application/merge-patch+json", `{"metadata":{"labels":{"x":"y"}}}`).must(t, http.StatusOK).into(t, &d)
	if d.Generation != 1 {
		t.Fatalf("generation %d after a label change, want 1", d.Generation)
	}
	e.patch(t, depPath+"/web", "application/merge-patch+json", `{"spec":{"replicas":3}}`).must(t, http.StatusOK).into(t, &d)
	if d.Generation != 2 || *d.Spec.Replicas != 3 {
		t.Fatalf("generation %d replicas %d after a spec change, want 2 and 3", d.Generation, *d.Spec.Replicas)
	}
}

// TestDeploymentDefaults checks the defaults Kubernetes applies: strategy
// RollingUpdate with 25%/25%, revisionHistoryLimit 10,
// progressDeadlineSeconds 600.
func TestDeploymentDefaults(t *testing.T) {
	e := newEnv(t)
	var d types.Deployment
	e.post(t, depPath, deployment("web", 1)).must(t, http.StatusCreated).into(t, &d)
	s := d.Spec.Strategy
	if s.Type != "RollingUpdate" || s.RollingUpdate == nil || s.RollingUpdate.MaxSurge == nil || s.RollingUpdate.MaxUnavailable == nil ||
		s.RollingUpdate.MaxSurge.String() != "25%" || s.RollingUpdate.MaxUnavailable.String() != "25%" {
		t.Fatalf("strategy %+v, want RollingUpdate 25%%/25%%", s)
	}
	if d.Spec.RevisionHistoryLimit == nil || *d.Spec.RevisionHistoryLimit != 10 ||
		d.Spec.ProgressDeadlineSeconds == nil || *d.Spec.ProgressDeadlineSeconds != 600 {
		t.Fatalf("revisionHistoryLimit %v progressDeadlineSeconds %v", d.Spec.RevisionHistoryLimit, d.Spec.ProgressDeadlineSeconds)
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t)
	e.post(t, cmPath, configMap("exists", nil, nil)).must(t, http.StatusCreated)
	big := strings.Repeat("x", 4<<20)
	tests := []struct {
		name   string
		req    req
		code   int
		reason types.StatusReason
		// inMessage must appear in the Status message.
		inMessage string
	}{
		{"malformed JSON", req{method: "POST", path: cmPath, body: `{"metadata": {"name": "a"`}, 400, types.StatusReasonBadRequest, ""},
		{"malformed YAML", req{method: "POST", path: cmPath, ctype: "application/yaml", body: "metadata:\n  name: [a\n"}, 400, types.StatusReasonBadRequest, ""},
		{"unknown field named", req{method: "POST", path: cmPath, body: `{"metadata":{"name":"a"},"bogus":1}`}, 400, types.StatusReasonBadRequest, "bogus"},
		{"unknown nested field named by path", req{method: "POST", path: podPath, body: `{"metadata":{"name":"a"},"spec":{"containers":[{"name":"app","image":"x","imagePullPolicyy":"Always"}]}}`},
			400, types.StatusReasonBadRequest, "spec.containers[0].imagePullPolicyy"},
		{"duplicate field", req{method: "POST", path: cmPath, body: `{"metadata":{"name":"a","name":"b"}}`}, 400, types.StatusReasonBadRequest, "metadata.name"},
		{"duplicate YAML key", req{method: "POST", path: cmPath, ctype: "application/yaml", body: "metadata:\n  name: a\ndata:\n  k: v\n  k: w\n"}, 400, types.StatusReasonBadRequest, `key "k" already set`},
		{"unknown delete option", req{method: "DELETE", path: cmPath + "/exists", body: `{"gracePeriodSecondz":1}`}, 400, types.StatusReasonBadRequest, "gracePeriodSecondz"},
		{"empty body", req{method: "POST", path: cmPath, body: ""}, 400, types.StatusReasonBadRequest, "empty"},
		{"kind mismatch", req{method: "POST", path: cmPath, body: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"}}`}, 400, types.StatusReasonBadRequest, "do not match"},
		{"namespace mismatch", req{method: "POST", path: cmPath, body: `{"metadata":{"name":"a","namespace":"other"}}`}, 400, types.StatusReasonBadRequest, "does not match the namespace"},
		{"too large", req{method: "POST", path: cmPath, body: `{"metadata":{"name":"big"},"data":{"x":"` + big + `"}}`}, 413, types.StatusReasonRequestTooLarge, "limit is"},
		{"invalid name", req{method: "POST", path: cmPath, body: `{"metadata":{"name":"Not_Valid"}}`}, 422, types.StatusReasonInvalid, `ConfigMap "Not_Valid" is invalid: metadata.name`},
		{"pod without image", req{method: "POST", path: podPath, body: `{"metadata":{"name":"web"},"spec":{"containers":[{"name":"app"}]}}`}, 422, types.StatusReasonInvalid,
			`Pod "web" is invalid: spec.containers[0].image: Required value`},
		{"no name", req{method: "POST", path: cmPath, body: `{"data":{"a":"b"}}`}, 422, types.StatusReasonInvalid, "name or generateName is required"},
		{"already exists", req{method: "POST", path: cmPath, body: `{"metadata":{"name":"exists"}}`}, 409, types.StatusReasonAlreadyExists, `configmaps "exists" already exists`},
		{"stale update", req{method: "PUT", path: cmPath + "/exists", body: `{"metadata":{"name":"exists","resourceVersion":"1"}}`}, 409, types.StatusReasonConflict, "the object has been modified"},
		{"not found get", req{method: "GET", path: cmPath + "/nope"}, 404, types.StatusReasonNotFound, `configmaps "nope" not found`},
		{"not found update", req{method: "PUT", path: cmPath + "/nope", body: `{"metadata":{"name":"nope"}}`}, 404, types.StatusReasonNotFound, ""},
		{"not found delete", req{method: "DELETE", path: cmPath + "/nope"}, 404, types.StatusReasonNotFound, ""},
		{"unknown resource", req{method: "GET", path: "/api/v1/namespaces/default/widgets"}, 404, types.StatusReasonNotFound, ""},
		{"unknown path", req{method: "GET", path: "/nothing/here"}, 404, types.StatusReasonNotFound, ""},
		{"missing namespace", req{method: "POST", path: "/api/v1/namespaces/ghost/configmaps", body: `{"metadata":{"name":"a"}}`}, 404, types.StatusReasonNotFound, `namespaces "ghost" not found`},
		{"post to a name", req{method: "POST", path: cmPath + "/exists", body: `{}`}, 405, types.StatusReasonMethodNotAllowed, ""},
		{"put on a collection", req{method: "PUT", path: cmPath, body: `{}`}, 405, types.StatusReasonMethodNotAllowed, ""},
		{"create across namespaces", req{method: "POST", path: "/api/v1/configmaps", body: `{"metadata":{"name":"a"}}`}, 405, types.StatusReasonMethodNotAllowed, ""},
		{"bad content type", req{method: "POST", path: cmPath, ctype: "text/plain", body: `{}`}, 415, types.StatusReasonUnsupportedMedia, ""},
		{"protobuf body", req{method: "POST", path: cmPath, ctype: "application/vnd.kubernetes.protobuf", body: "k8s\x00"}, 415, types.StatusReasonUnsupportedMedia, "--dry-run=client -o yaml | kubectl apply -f -"},
		{"server-side apply", req{method: "PATCH", path: cmPath + "/exists", ctype: "application/apply-patch+yaml", body: `{}`}, 415, types.StatusReasonUnsupportedMedia, "client-side apply"},
		{"bad label selector", req{method: "GET", path: cmPath + "?labelSelector=a%20in%20(b"}, 400, types.StatusReasonBadRequest, ""},
		{"unsupported field selector", req{method: "GET", path: cmPath + "?fieldSelector=spec.bogus%3Dx"}, 400, types.StatusReasonBadRequest, ""},
		{"bad continue", req{method: "GET", path: cmPath + "?limit=1&continue=garbage"}, 400, types.StatusReasonBadRequest, "continue"},
		{"bad limit", req{method: "GET", path: cmPath + "?limit=-1"}, 400, types.StatusReasonBadRequest, "limit"},
		{"malformed JSON patch", req{method: "PATCH", path: cmPath + "/exists", ctype: "application/json-patch+json", body: `{"op":"add"}`}, 400, types.StatusReasonBadRequest, ""},
		{"protected namespace", req{method: "DELETE", path: "/api/v1/namespaces/default"}, 403, types.StatusReasonForbidden, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.store.Revision()
			st := e.send(t, tc.req).status(t, tc.code, tc.reason)
			if !strings.Contains(st.Message, tc.inMessage) {
				t.Errorf("message %q does not contain %q", st.Message, tc.inMessage)
			}
			if after := e.store.Revision(); after != before {
				t.Errorf("a failed request wrote to the store: revision %d -> %d", before, after)
			}
		})
	}
}

func TestInvalidCauses(t *testing.T) {
	e := newEnv(t)
	st := e.post(t, podPath, `{"metadata":{"name":"web"},"spec":{"containers":[{"name":"app"}]}}`).status(t, 422, types.StatusReasonInvalid)
	if st.Details == nil || st.Details.Name != "web" || st.Details.Kind != "Pod" || len(st.Details.Causes) == 0 {
		t.Fatalf("details %+v, want name web kind Pod and causes", st.Details)
	}
	if c := st.Details.Causes[0]; c.Field != "spec.containers[0].image" || c.Type != "FieldValueRequired" {
		t.Fatalf("cause %+v", c)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	e := newEnv(t)
	before := e.store.Revision()
	var cm types.ConfigMap
	e.post(t, cmPath+"?dryRun=All", configMap("dry", nil, nil)).must(t, http.StatusCreated).into(t, &cm)
	if cm.Name != "dry" || cm.UID == "" {
		t.Fatalf("dry-run answer %+v", cm.ObjectMeta)
	}
	if e.store.Revision() != before {
		t.Fatal("dry-run create wrote to the store")
	}
	e.get(t, cmPath+"/dry").status(t, 404, types.StatusReasonNotFound)
}

func TestFieldValidationStrictAccepted(t *testing.T) {
	e := newEnv(t)
	e.post(t, cmPath+"?fieldValidation=Strict", configMap("a", nil, nil)).must(t, http.StatusCreated)
	st := e.post(t, cmPath+"?fieldValidation=Strict", `{"metadata":{"name":"b","bogus":true}}`).status(t, 400, types.StatusReasonBadRequest)
	if !strings.Contains(st.Message, "bogus") || !strings.Contains(st.Message, "strict decoding error") {
		t.Fatalf("message %q", st.Message)
	}
	e.post(t, cmPath+"?fieldValidation=Sometimes", configMap("c", nil, nil)).status(t, 400, types.StatusReasonBadRequest)
	if want := `ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.bogus"`; st.Message != want {
		t.Fatalf("message %q, want %q", st.Message, want)
	}

	// Warn and Ignore (kubectl --validate=warn|false) drop unknown fields
	// as Kubernetes does; Warn says so in a Warning header.
	r := e.post(t, cmPath+"?fieldValidation=Warn", `{"metadata":{"name":"w","bogus":true},"data":{"a":"b"}}`).must(t, http.StatusCreated)
	if w := r.header.Get("Warning"); w != `299 - "unknown field \"metadata.bogus\""` {
		t.Fatalf("Warning header %q", w)
	}
	var cm types.ConfigMap
	r.into(t, &cm)
	if cm.Data["a"] != "b" || cm.Name != "w" {
		t.Fatalf("created %+v", cm)
	}
	r = e.post(t, cmPath+"?fieldValidation=Ignore", `{"metadata":{"name":"i"},"bogus":1}`).must(t, http.StatusCreated)
	if w := r.header.Get("Warning"); w != "" {
		t.Fatalf("Ignore answered Warning %q", w)
	}
	r = e.patch(t, cmPath+"/i?fieldValidation=Warn", "application/merge-patch+json", `{"data":{"x":"y"},"extra":1}`).must(t, http.StatusOK)
	if w := r.header.Get("Warning"); !strings.Contains(w, "extra") {
		t.Fatalf("patch Warning %q", w)
	}
	e.put(t, cmPath+"/i?fieldValidation=Ignore", `{"metadata":{"name":"i"},"data":{"k":"v"},"extra":1}`).must(t, http.StatusOK)
	// Malformed bodies still fail.
	e.post(t, cmPath+"?fieldValidation=Ignore", `{"metadata":`).status(t, 400, types.StatusReasonBadRequest)
}

func TestUpdateUIDPreconditionAndNameMismatch(t *testing.T) {
	e := newEnv(t)
	e.post(t, cmPath, configMap("a", nil, nil)).must(t, http.StatusCreated)
	e.put(t, cmPath+"/a", `{"metadata":{"name":"a","uid":"not-the-uid"}}`).status(t, 409, types.StatusReasonConflict)
	e.put(t, cmPath+"/a", `{"metadata":{"name":"b"}}`).status(t, 400, types.StatusReasonBadRequest)
	// An update without resourceVersion is unconditional.
	e.put(t, cmPath+"/a", `{"metadata":{"name":"a"},"data":{"z":"1"}}`).must(t, http.StatusOK)
}

func TestDeleteCollection(t *testing.T) {
	e := newEnv(t)
	for i, tier := range []string{"web", "web", "db"} {
		e.post(t, cmPath, configMap("cm"+strconv.Itoa(i), map[string]string{"tier": tier}, nil)).must(t, http.StatusCreated)
	}
	gone := names(t, e.del(t, cmPath+"?labelSelector=tier%3Dweb", nil).must(t, http.StatusOK))
	if !slices.Equal(gone, []string{"cm0", "cm1"}) {
		t.Fatalf("deleted %v, want cm0 cm1", gone)
	}
	if left := names(t, e.get(t, cmPath).must(t, 200)); !slices.Equal(left, []string{"cm2"}) {
		t.Fatalf("left %v, want cm2", left)
	}
}

func TestDeletePreconditions(t *testing.T) {
	e := newEnv(t)
	var cm types.ConfigMap
	e.post(t, cmPath, configMap("a", nil, nil)).must(t, http.StatusCreated).into(t, &cm)
	e.del(t, cmPath+"/a", `{"preconditions":{"resourceVersion":"1"}}`).status(t, 409, types.StatusReasonConflict)
	e.del(t, cmPath+"/a", `{"preconditions":{"uid":"other"}}`).status(t, 409, types.StatusReasonConflict)
	e.del(t, cmPath+"/a", `{"preconditions":{"uid":"`+string(cm.UID)+`","resourceVersion":"`+cm.ResourceVersion+`"}}`).must(t, 200)
	e.del(t, cmPath+"/a?propagationPolicy=Sideways", nil).status(t, 400, types.StatusReasonBadRequest)
}
