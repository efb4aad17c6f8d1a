package container_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
)

// TestPullSecrets: an image in a registry that wants credentials is
// refused without them (ErrImagePull, the registry's UNAUTHORIZED) and
// pulled, created and run with a docker config document of the Pod's
// imagePullSecrets in Spec.PullSecrets.
func TestPullSecrets(t *testing.T) {
	e := newEnv(t)
	open, private := imagetest.AuthRegistry(t, "alice", "s3cret")
	imagetest.Push(t, open+"/app:private", appImage(t, appConfig()))
	ref := private + "/app:private"
	ctx := context.Background()

	err := e.rt.Pull(ctx, &runtimes.Spec{Image: ref}, nil)
	if !errors.Is(err, runtimes.ErrImagePull) || !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Fatalf("pull without credentials: %v, want ErrImagePull with UNAUTHORIZED", err)
	}
	spec := &runtimes.Spec{Image: ref, Args: []string{"exit", "0"},
		PullSecrets: [][]byte{imagetest.DockerConfig(private, "alice", "s3cret")}}
	if err := e.rt.Pull(ctx, spec, nil); err != nil {
		t.Fatalf("pull with the secret: %v", err)
	}
	if st := e.run(t, "private", spec); st.ExitCode != 0 {
		t.Fatalf("exit %+v", st)
	}
}
