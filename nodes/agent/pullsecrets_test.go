package agent_test

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
	"github.com/wharfhq/wharf/sdk"
)

// TestImagePullSecrets: a Wasm Pod whose OCI image is on a registry that
// requires credentials fails to pull without them (ErrImagePull), and runs
// with them from its imagePullSecrets (dockerconfigjson or dockercfg), from
// its ServiceAccount's, or from the default ServiceAccount's; a missing
// Secret is a Warning event and the pull goes on with the others.
func TestImagePullSecrets(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials from the host's docker config
	open, private := imagetest.AuthRegistry(t, "alice", "s3cret")
	// One image per Pod (its module prints the Pod's name), so that each
	// Pod's pull fetches from the registry.
	cfg := v1.ConfigFile{OS: "wasip1", Architecture: "wasm", Config: v1.Config{Entrypoint: []string{"/app.wasm"}}}
	refFor := func(t *testing.T, pod string) string {
		imagetest.Push(t, open+"/team/"+pod+":v1", imagetest.Image(t, cfg,
			imagetest.Layer(t, imagetest.File("app.wasm", string(wasmtest.Print(pod+"\n")), 0o755))))
		return private + "/team/" + pod + ":v1"
	}

	w := newWasmEnv(t)
	e := newEnv(t)
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{"wasm": w.rt}, nil)
	ctx := t.Context()
	secrets := sdk.Typed[*types.Secret](e.client).Namespace("default")
	sas := sdk.Typed[*types.ServiceAccount](e.client).Namespace("default")
	for _, s := range []*types.Secret{
		{ObjectMeta: types.ObjectMeta{Name: "regcred"}, Type: types.SecretTypeDockerConfigJSON,
			Data: map[string][]byte{".dockerconfigjson": imagetest.DockerConfig(private, "alice", "s3cret")}},
		{ObjectMeta: types.ObjectMeta{Name: "legacy"}, Type: types.SecretTypeDockercfg,
			Data: map[string][]byte{".dockercfg": []byte(`{"` + private + `":{"username":"alice","password":"s3cret"}}`)}},
		{ObjectMeta: types.ObjectMeta{Name: "opaque"}, Type: types.SecretTypeOpaque,
			Data: map[string][]byte{".dockerconfigjson": imagetest.DockerConfig(private, "alice", "s3cret")}},
	} {
		if _, err := secrets.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sas.Create(ctx, &types.ServiceAccount{ObjectMeta: types.ObjectMeta{Name: "builder"},
		ImagePullSecrets: []types.LocalObjectReference{{Name: "regcred"}}}); err != nil {
		t.Fatal(err)
	}
	privatePod := func(name string, secrets ...string) *types.Pod {
		p := wasmPod(name, types.RestartPolicyNever, refFor(t, name))
		p.Spec.Containers[0].ImagePullPolicy = types.PullAlways
		for _, s := range secrets {
			p.Spec.ImagePullSecrets = append(p.Spec.ImagePullSecrets, types.LocalObjectReference{Name: s})
		}
		return p
	}
	succeeds := func(t *testing.T, p *types.Pod) {
		t.Helper()
		e.create(t, p)
		e.waitPod(t, p.Name, "Succeeded", phase(types.PodSucceeded))
		e.waitEvent(t, p.Name, `Normal Pulled: Successfully pulled image "`+p.Spec.Containers[0].Image+`"`)
	}
	failsToPull := func(t *testing.T, p *types.Pod) {
		t.Helper()
		e.create(t, p)
		e.waitPod(t, p.Name, "ErrImagePull for want of credentials", func(p *types.Pod) bool {
			if p == nil || len(p.Status.ContainerStatuses) == 0 {
				return false
			}
			st := p.Status.ContainerStatuses[0].State.Waiting
			return st != nil && (st.Reason == "ErrImagePull" || st.Reason == "ImagePullBackOff") && strings.Contains(st.Message, "UNAUTHORIZED")
		})
		e.waitEvent(t, p.Name, `Warning Failed: Failed to pull image "`+p.Spec.Containers[0].Image+`"`)
	}

	t.Run("no secret", func(t *testing.T) { failsToPull(t, privatePod("nosecret")) })
	t.Run("secret of another type is ignored", func(t *testing.T) { failsToPull(t, privatePod("opaque", "opaque")) })
	t.Run("dockerconfigjson", func(t *testing.T) { succeeds(t, privatePod("withsecret", "regcred")) })
	t.Run("dockercfg", func(t *testing.T) { succeeds(t, privatePod("withlegacy", "legacy")) })
	t.Run("missing secret is an event, the pull goes on", func(t *testing.T) {
		succeeds(t, privatePod("partial", "gone", "regcred"))
		e.waitEvent(t, "partial", "Warning FailedToRetrieveImagePullSecret: Unable to retrieve some image pull secrets (gone); attempting to pull the image may not succeed.")
	})
	t.Run("service account", func(t *testing.T) {
		p := privatePod("viasa")
		p.Spec.ServiceAccountName = "builder"
		succeeds(t, p)
	})
	t.Run("default service account", func(t *testing.T) {
		if _, err := sas.Create(ctx, &types.ServiceAccount{ObjectMeta: types.ObjectMeta{Name: "default"},
			ImagePullSecrets: []types.LocalObjectReference{{Name: "regcred"}}}); err != nil {
			t.Fatal(err)
		}
		// The agent's ServiceAccount cache sees it shortly: a Pod created
		// before may fail once and is retried with back-off.
		succeeds(t, privatePod("viadefault"))
	})
}
