package agent

import (
	"fmt"
	"strings"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// Image pull secrets, as the kubelet: the Pod's imagePullSecrets, then
// its ServiceAccount's, read from the namespace's Secret cache; a Secret
// of type kubernetes.io/dockerconfigjson (key .dockerconfigjson) or
// kubernetes.io/dockercfg (key .dockercfg) gives the runtime registry
// credentials, others are ignored. A missing Secret is a Warning event,
// and the pull still goes on.

// ReasonFailedToRetrieveImagePullSecret is the kubelet's event reason for
// imagePullSecrets that name no Secret.
const ReasonFailedToRetrieveImagePullSecret = "FailedToRetrieveImagePullSecret"

// Keys of the registry credentials in the two docker config Secret types.
const (
	dockerConfigJSONKey = ".dockerconfigjson"
	dockercfgKey        = ".dockercfg"
)

// defaultServiceAccount is the ServiceAccount of a Pod that names none.
const defaultServiceAccount = "default"

// pullSecretNames lists, without repeats, the Secrets a Pod's image pulls
// may use: its own imagePullSecrets, then its ServiceAccount's (from the
// agent's ServiceAccount cache; a missing ServiceAccount adds none).
func (a *Agent) pullSecretNames(pod *types.Pod) []string {
	var names []string
	seen := map[string]bool{}
	add := func(refs []types.LocalObjectReference) {
		for _, r := range refs {
			if r.Name != "" && !seen[r.Name] {
				seen[r.Name] = true
				names = append(names, r.Name)
			}
		}
	}
	add(pod.Spec.ImagePullSecrets)
	if a.sas != nil {
		sa := pod.Spec.ServiceAccountName
		if sa == "" {
			sa = defaultServiceAccount
		}
		if acct, err := sdk.ListerFor[*types.ServiceAccount](a.sas).Get(pod.Namespace, sa); err == nil {
			add(acct.ImagePullSecrets)
		}
	}
	return names
}

// pullSecrets returns the registry credentials (docker config documents)
// of the Pod's image pull secrets, recording the kubelet's Warning event
// when some of them are missing.
func (a *Agent) pullSecrets(pod *types.Pod) [][]byte {
	var docs [][]byte
	var missing []string
	for _, name := range a.pullSecretNames(pod) {
		sec, err := a.secret(pod.Namespace, name)
		if err != nil {
			missing = append(missing, name)
			continue
		}
		switch key := secretDockerKey(sec.Type); {
		case key == "":
			a.log.Debug("image pull secret is not a docker config; ignored", "pod", pod.Namespace+"/"+pod.Name, "secret", name, "type", sec.Type)
		case len(sec.Data[key]) > 0:
			docs = append(docs, sec.Data[key])
		}
	}
	if len(missing) > 0 {
		a.events.warn(pod, "", ReasonFailedToRetrieveImagePullSecret,
			fmt.Sprintf("Unable to retrieve some image pull secrets (%s); attempting to pull the image may not succeed.", strings.Join(missing, ", ")))
	}
	return docs
}

// secretDockerKey is the data key holding registry credentials in a
// Secret of type t, or "" for other types.
func secretDockerKey(t types.SecretType) string {
	switch t {
	case types.SecretTypeDockerConfigJSON:
		return dockerConfigJSONKey
	case types.SecretTypeDockercfg:
		return dockercfgKey
	}
	return ""
}
