// Package sched is Wharf's scheduler: it places every Pod that has no
// node and names this scheduler (spec.schedulerName "default-scheduler" or
// empty), and evicts running Pods from nodes with a NoExecute taint they do
// not tolerate.
//
// The decision itself is close to a pure function and lives in
// sched/framework (a Snapshot of nodes and Pods in, a node or a reason out)
// with the built-in filter and score plugins in sched/plugins. This package
// is the edge around it:
//
//   - informers (package sdk) feed a framework.Cache with Nodes, bound Pods
//     and Namespaces, and a Queue with pending Pods: an active heap by
//     priority then age, back-off heaps (1s doubling to 10s by default),
//     and an unschedulable set that a cluster event (a node added or
//     changed, a Pod bound, deleted or finished, a bound Pod's labels
//     changed) sends back when it could cure the Pod's refusal (each
//     plugin registers the events that can: a Pod deleted frees room, a
//     Pod added does not); when nothing is active, a Pod that no node
//     fitted is taken from back-off early (a Pod whose attempt failed with
//     an error waits its back-off);
//   - one loop pops a Pod, takes a Snapshot of the Cache, runs the Profile,
//     assumes the Pod onto the chosen node in the Cache and hands the
//     binding (the pods/binding subresource, never a Pod PUT) to a pool of
//     workers, so that the next Pod is placed while bindings are in flight
//     without overcommitting any node; a failed binding forgets the
//     assumption;
//   - a Pod that fits nowhere gets PodScheduled=False (reason
//     Unschedulable) through the status subresource and a Warning event
//     FailedScheduling whose message sums up the refusals as Kubernetes
//     does ("0/5 nodes are available: 2 Insufficient memory, ..."), written
//     only when the message changes; once bound, the condition turns True;
//   - every loop is level-triggered: after a restart the informers' lists
//     rebuild everything, and a condition already carrying the message is
//     not written again.
//
// Conventions the plugins rely on (the node agent and the CLI write them):
// a Node's wharf.dev/runtimes label lists its runtimes separated by dots
// ("container.wasm": a label value cannot hold a comma), a Node without it
// offers "container" only; a Pod with runtimeClassName "wasm" needs
// "wasm"; a container Pod runs only on nodes whose kubernetes.io/os and
// kubernetes.io/arch are among the platforms of every one of its images
// (init containers included; Wasm Pods run on any architecture).
//
// Image platforms: a Pod's wharf.dev/image-platforms annotation
// ("linux/amd64,linux/arm64"), when present, wins. Otherwise the
// NodeArchitecture filter asks the images' registries in PreFilter, once
// per image per scheduling cycle and never per node, through
// plugins.RegistryResolver (go-containerregistry's remote.Get: an index
// gives the platforms of its manifests, a single image its config's
// os/architecture; default keychain credentials; plain http for
// localhost, 127.0.0.1 and [::1]). Answers are cached by reference for 10
// minutes (then still given while a refresh runs behind them, and kept if
// the registry is down), failures for 30 seconds; concurrent lookups of
// one reference share a request, a lookup gives up after 5 seconds, and
// the lookups of a Pod's images start when the Pod is first seen pending.
// The scheduling loop thus waits for a registry only for an image it has
// not seen before (at most the timeout). The check fails open: an image whose
// platforms cannot be found (registry unreachable or slow, image not
// there, for instance one loaded on the node with `wharf image load`)
// does not restrict the Pod, and if it lands on a node of the wrong
// architecture the node agent reports that error on the Pod itself.
// Nodes do not report their images to the API, so the scheduler has no
// node-local knowledge to consult. Config.ImagePlatforms (imagePlatforms
// in the config file) names more plain-http registries, sets the timeout
// or turns the lookups off; WithImageResolver replaces the resolver.
//
// Events are best effort: they are written by one worker from a bounded
// buffer and dropped (counted by DroppedEvents) when a burst outruns the
// API, so that bindings and conditions keep the API's write capacity.
//
// The configuration (Config, LoadConfig) says which plugins run, in which
// order, with which score weights; WithPlugins adds custom plugins (see
// Example_customPlugin).
package sched
