package agent

import (
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/volumes"
)

// setupVolumes prepares the Pod's volumes and returns their host paths.
func (a *Agent) setupVolumes(pod *types.Pod) (map[string]string, error) {
	return a.vols.Setup(pod, volumes.Sources{
		ConfigMap: a.configMap,
		Secret:    a.secret,
		HostIP:    a.cfg.HostIP,
		PodIP:     a.podIP(pod),
	})
}
