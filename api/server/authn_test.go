package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

func TestParseTokenFile(t *testing.T) {
	good := []struct {
		name string
		file string
		// want maps each token to "user uid group,group".
		want map[string]string
	}{
		{"three columns", "t1,alice,1\n", map[string]string{"t1": "alice 1 system:authenticated"}},
		{"groups quoted", `t1,alice,1,"dev,ops"` + "\n", map[string]string{"t1": "alice 1 dev,ops,system:authenticated"}},
		{"one group unquoted", "t1,alice,1,dev\n", map[string]string{"t1": "alice 1 dev,system:authenticated"}},
		{"empty groups", "t1,alice,1,\n", map[string]string{"t1": "alice 1 system:authenticated"}},
		{"comments, blank lines, spaces", "# token,user,uid,groups\n\n t1 , alice , 1 , \" dev , ops \"\n#t2,bob,2\nt3,system:node:n1,n1,system:nodes",
			map[string]string{"t1": "alice 1 dev,ops,system:authenticated", "t3": "system:node:n1 n1 system:nodes,system:authenticated"}},
		{"empty uid", "t1,alice,\n", map[string]string{"t1": "alice  system:authenticated"}},
		{"CRLF", "t1,alice,1\r\nt2,bob,2\r\n", map[string]string{"t1": "alice 1 system:authenticated", "t2": "bob 2 system:authenticated"}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			f, err := server.ParseTokenFile(strings.NewReader(tc.file))
			if err != nil {
				t.Fatalf("ParseTokenFile: %v", err)
			}
			if f.Len() != len(tc.want) {
				t.Errorf("Len() = %d, want %d", f.Len(), len(tc.want))
			}
			for token, want := range tc.want {
				u, ok := f.AuthenticateToken(context.Background(), token)
				if !ok {
					t.Fatalf("token %q not accepted", token)
				}
				if got := u.Name + " " + u.UID + " " + strings.Join(u.Groups, ","); got != want {
					t.Errorf("token %q: user %q, want %q", token, got, want)
				}
			}
			for _, bad := range []string{"", "t", "t1 ", "T1", "t2x", "#t2"} {
				if u, ok := f.AuthenticateToken(context.Background(), bad); ok {
					t.Errorf("token %q accepted as %q", bad, u.Name)
				}
			}
		})
	}

	bad := []struct {
		name, file, want string
	}{
		{"two columns", "t1,alice,1\nt2,bob\n", "line 2: 2 column(s), want token,user,uid"},
		{"five columns", "t1,alice,1,dev,ops\n", `line 1: 5 columns, want at most 4 (token,user,uid,groups): quote a list of groups, as "group1,group2"`},
		{"empty token", "# c\n\n,alice,1\n", "line 3: empty token"},
		{"space in token", "t 1,alice,1\n", "line 1: the token has a space"},
		{"empty user", "t1, ,1\n", "line 1: empty user name"},
		{"duplicate token", "t1,alice,1\nt2,bob,2\nt1,carol,3\n", `line 3: the token is already on line 1 (user "alice")`},
		{"bad quote", "t1,alice,1\nt2,bob,2,\"dev\n", "line 2"},
		{"bare quote", "t1,al\"ice,1\n", "line 1"},
		{"no token", "# only a comment\n\n", "no token in it"},
		{"empty", "", "no token in it"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.ParseTokenFile(strings.NewReader(tc.file))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, server.ErrTokenFile) {
				t.Errorf("error %v is not ErrTokenFile", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestLoadTokenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(path, []byte("t1,alice,1\nt2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := server.LoadTokenFile(path)
	if err == nil || !strings.Contains(err.Error(), "token file "+path+": ") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("error %v does not name the file and line", err)
	}
	if _, err := server.LoadTokenFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: error %v", err)
	}
}

func TestTokenFileAdd(t *testing.T) {
	f, err := server.ParseTokenFile(strings.NewReader("t1,alice,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	loop := server.NewToken()
	if len(loop) < 40 || loop == server.NewToken() {
		t.Fatalf("NewToken gave %q (short, or twice the same)", loop)
	}
	if err := f.Add(loop, server.User{Name: server.LoopbackUser, Groups: []string{server.GroupMasters}}); err != nil {
		t.Fatal(err)
	}
	u, ok := f.AuthenticateToken(context.Background(), loop)
	if !ok || u.Name != server.LoopbackUser || !slices.Equal(u.Groups, []string{server.GroupMasters, server.GroupAuthenticated}) {
		t.Fatalf("loopback token: %+v %v", u, ok)
	}
	for _, tc := range []struct {
		name, token string
		user        server.User
		want        string
	}{
		{"listed", "t1", server.User{Name: "x"}, `the token is already on line 1 (user "alice")`},
		{"added", loop, server.User{Name: "x"}, `the token is already listed (user "system:apiserver")`},
		{"empty", "", server.User{Name: "x"}, "empty token"},
		{"no name", "t9", server.User{}, "needs a name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.Add(tc.token, tc.user)
			if !errors.Is(err, server.ErrTokenFile) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrTokenFile saying %q", err, tc.want)
			}
		})
	}
}

// authnTokens is the token file of the middleware tests.
const authnTokens = `# the tests' users
alice-token,alice,u1,"dev,ops"
node-token,system:node:n1,n1,system:nodes
`

// syncBuffer is a log destination written by the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newAuthnEnv starts a server that authenticates with authnTokens and
// logs at debug level into the returned buffer; proxy, when set, is its
// NodeProxy.
func newAuthnEnv(t *testing.T, proxy server.NodeProxy) (*env, *syncBuffer) {
	t.Helper()
	tokens, err := server.ParseTokenFile(strings.NewReader(authnTokens))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	e := newEnv(t, func(c *server.Config) {
		c.Authenticator = tokens
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.NodeProxy = proxy
	})
	return e, logs
}

// sendAuth sends a request with an Authorization header (none when auth
// is "").
func sendAuth(t *testing.T, e *env, method, path, auth string, body string) resp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	hr, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		hr.Header.Set("Authorization", auth)
	}
	if body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{code: res.StatusCode, body: data, header: res.Header}
}

func TestAuthnMiddleware(t *testing.T) {
	e, logs := newAuthnEnv(t, nil)
	const alice = "Bearer alice-token"
	for _, tc := range []struct {
		name, method, path, auth string
		body                     string
		want                     int
	}{
		{"list without a token", "GET", cmPath, "", "", 401},
		{"list with an unknown token", "GET", cmPath, "Bearer nope", "", 401},
		{"list with a token's prefix", "GET", cmPath, "Bearer alice-toke", "", 401},
		{"list with basic auth", "GET", cmPath, "Basic YWxpY2U6cHc=", "", 401},
		{"list with an empty bearer", "GET", cmPath, "Bearer ", "", 401},
		{"create without a token", "POST", cmPath, "", `{"metadata":{"name":"x"}}`, 401},
		{"discovery /api", "GET", "/api", "", "", 401},
		{"discovery /apis", "GET", "/apis", "", "", 401},
		{"discovery /api/v1", "GET", "/api/v1", "", "", 401},
		{"openapi", "GET", "/openapi/v3", "", "", 401},
		{"metrics", "GET", "/metrics", "", "", 401},
		{"pprof", "GET", "/debug/pprof/", "", "", 401},
		{"access review", "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "", "{}", 401},
		{"unknown path", "GET", "/nowhere", "", "", 401},
		{"healthz public", "GET", "/healthz", "", "", 200},
		{"livez public", "GET", "/livez", "", "", 200},
		{"readyz public", "GET", "/readyz", "", "", 200},
		{"version public", "GET", "/version", "", "", 200},
		{"healthz with an unknown token", "GET", "/healthz", "Bearer nope", "", 401},
		{"healthz with a token", "GET", "/healthz", alice, "", 200},
		{"list with a token", "GET", cmPath, alice, "", 200},
		{"lower-case bearer", "GET", cmPath, "bearer alice-token", "", 200},
		{"create with a token", "POST", cmPath, alice, `{"metadata":{"name":"x"}}`, 201},
		{"node's token", "GET", "/api/v1/nodes", "Bearer node-token", "", 200},
		{"discovery with a token", "GET", "/apis", alice, "", 200},
		{"unknown path with a token", "GET", "/nowhere", alice, "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sendAuth(t, e, tc.method, tc.path, tc.auth, tc.body)
			if tc.want != 401 {
				r.must(t, tc.want)
				return
			}
			st := r.status(t, http.StatusUnauthorized, types.StatusReasonUnauthorized)
			if st.Message != "Unauthorized" {
				t.Errorf("message %q, want Unauthorized", st.Message)
			}
			if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="wharf"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
		})
	}
	l := logs.String()
	for _, want := range []string{
		`msg="api request" user=alice method=POST uri=/api/v1/namespaces/default/configmaps code=201`,
		`msg="api request" user=system:node:n1 method=GET uri=/api/v1/nodes code=200`,
		`msg="api request" user=system:anonymous method=GET uri=/version code=200`,
		`msg="request not authenticated" reason="no bearer token" method=GET uri=/api`,
		`msg="request not authenticated" reason="the bearer token is not accepted" method=GET uri=/api/v1/namespaces/default/configmaps`,
	} {
		if !strings.Contains(l, want) {
			t.Errorf("the log has no %q:\n%s", want, l)
		}
	}
	if strings.Contains(l, "alice-token") || strings.Contains(l, "nope") {
		t.Errorf("a token was logged:\n%s", l)
	}
}

// TestAuthnUserInContext checks that handlers behind the middleware see
// the user: the node proxy of pods/log reads it from the request.
func TestAuthnUserInContext(t *testing.T) {
	users := make(chan *server.User, 1)
	proxy := server.NodeProxyFunc(func(w http.ResponseWriter, r *http.Request, _ *types.Pod, _ string) {
		u, _ := server.UserFrom(r.Context())
		users <- u
		_, _ = io.WriteString(w, "log line\n")
	})
	e, _ := newAuthnEnv(t, proxy)
	sendAuth(t, e, "POST", podPath, "Bearer alice-token", `{"metadata":{"name":"p"},"spec":{"nodeName":"n1","containers":[{"name":"app","image":"nginx:1.27"}]}}`).must(t, 201)
	sendAuth(t, e, "GET", podPath+"/p/log", "", "").status(t, 401, types.StatusReasonUnauthorized)
	if r := sendAuth(t, e, "GET", podPath+"/p/log", "Bearer alice-token", "").must(t, 200); string(r.body) != "log line\n" {
		t.Fatalf("log %q", r.body)
	}
	u := <-users
	if u == nil || u.Name != "alice" || u.UID != "u1" || !slices.Equal(u.Groups, []string{"dev", "ops", server.GroupAuthenticated}) {
		t.Fatalf("user in the context: %+v", u)
	}
	if _, ok := server.UserFrom(context.Background()); ok {
		t.Fatal("UserFrom found a user in a bare context")
	}
}

// TestAuthnSDKWatch drives the server with the SDK: without a token every
// call is Unauthorized, with one a watch sees a create.
func TestAuthnSDKWatch(t *testing.T) {
	e, _ := newAuthnEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	anon, err := sdk.New(e.url)
	if err != nil {
		t.Fatal(err)
	}
	cms := sdk.Typed[*types.ConfigMap](anon).Namespace("default")
	if _, err := cms.List(ctx, sdk.ListOptions{}); sdk.ReasonForError(err) != types.StatusReasonUnauthorized {
		t.Fatalf("list without a token: %v", err)
	}
	if _, err := cms.Watch(ctx, sdk.ListOptions{}); sdk.ReasonForError(err) != types.StatusReasonUnauthorized {
		t.Fatalf("watch without a token: %v", err)
	}
	c, err := sdk.New(e.url, sdk.WithBearerToken("alice-token"))
	if err != nil {
		t.Fatal(err)
	}
	cms = sdk.Typed[*types.ConfigMap](c).Namespace("default")
	w, err := cms.Watch(ctx, sdk.ListOptions{})
	if err != nil {
		t.Fatalf("watch with a token: %v", err)
	}
	defer w.Stop()
	if _, err := cms.Create(ctx, &types.ConfigMap{ObjectMeta: types.ObjectMeta{Name: "seen"}}); err != nil {
		t.Fatal(err)
	}
	for ev := range w.Events() {
		if ev.Type == types.Added && ev.Object.Name == "seen" {
			return
		}
	}
	t.Fatalf("the watch ended before the ADDED event: %v", w.Err())
}

// TestNoAuthenticatorAllowsAll checks that a server without an
// Authenticator ignores Authorization headers, as before.
func TestNoAuthenticatorAllowsAll(t *testing.T) {
	e := newEnv(t)
	for _, auth := range []string{"", "Bearer anything", "Basic eDp5"} {
		sendAuth(t, e, "GET", cmPath, auth, "").must(t, 200)
	}
}

// TestSelfSubjectReview checks kubectl auth whoami's request: it answers
// the token's user, and system:anonymous on a server without tokens.
func TestSelfSubjectReview(t *testing.T) {
	const path = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
	const body = `{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview","metadata":{}}`
	authn, _ := newAuthnEnv(t, nil)
	open := newEnv(t)
	for _, tc := range []struct {
		name string
		e    *env
		auth string
		want string
	}{
		{"token", authn, "Bearer alice-token", `{"username":"alice","uid":"u1","groups":["dev","ops","system:authenticated"]}`},
		{"node token", authn, "Bearer node-token", `{"username":"system:node:n1","uid":"n1","groups":["system:nodes","system:authenticated"]}`},
		{"no authentication", open, "", `{"username":"system:anonymous","groups":["system:unauthenticated"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got struct {
				Kind, APIVersion string
				Status           struct {
					UserInfo json.RawMessage `json:"userInfo"`
				}
			}
			sendAuth(t, tc.e, "POST", path, tc.auth, body).must(t, http.StatusCreated).into(t, &got)
			if got.Kind != "SelfSubjectReview" || got.APIVersion != "authentication.k8s.io/v1" || string(got.Status.UserInfo) != tc.want {
				t.Fatalf("answer %+v, userInfo %s, want %s", got, got.Status.UserInfo, tc.want)
			}
		})
	}
	sendAuth(t, authn, "POST", path, "", body).status(t, http.StatusUnauthorized, types.StatusReasonUnauthorized)
}

// TestAuthnLogLevels: at the default info level a request without a token
// leaves no log line (anyone reaching the port could fill the log), while
// a refused token does.
func TestAuthnLogLevels(t *testing.T) {
	tokens, err := server.ParseTokenFile(strings.NewReader(authnTokens))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	e := newEnv(t, func(c *server.Config) {
		c.Authenticator = tokens
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	sendAuth(t, e, "GET", "/api", "", "").status(t, http.StatusUnauthorized, types.StatusReasonUnauthorized)
	if l := logs.String(); strings.Contains(l, "not authenticated") {
		t.Errorf("a request without a token was logged at info:\n%s", l)
	}
	sendAuth(t, e, "GET", "/api", "Bearer nope", "").status(t, http.StatusUnauthorized, types.StatusReasonUnauthorized)
	if l := logs.String(); !strings.Contains(l, `reason="the bearer token is not accepted"`) {
		t.Errorf("a refused token was not logged:\n%s", l)
	}
}
