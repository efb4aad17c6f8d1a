// Package sdk is Wharf's Go client: dynamic and typed CRUD over the
// Kubernetes-shaped REST API, watches, a shared informer cache with listers
// and indexers, and a rate-limited work queue for level-triggered loops.
//
// The CLI, the scheduler, the controllers and the node agent all use it; it
// imports no server package, only the object model in api/types.
//
// A Client talks to one API server:
//
//	c, err := sdk.New("http://127.0.0.1:6443")
//	pods := sdk.Typed[*types.Pod](c).Namespace("default")
//	pod, err := pods.Get(ctx, "web")
//	if sdk.IsNotFound(err) { ... }
//
// The dynamic client works from a *types.Resource, so code that handles
// every kind (the CLI, the garbage collector) needs no per-kind code:
//
//	res, _ := types.LookupResource("deploy")
//	obj, err := c.Resource(res).Namespace("default").Get(ctx, "web")
//
// Informers keep a local cache in step with the server (list, then watch
// from the list's resourceVersion, relist when the watch is too old), call
// event handlers without ever blocking the watch loop, and answer reads from
// memory through a Lister. Controllers pair them with a Queue:
//
//	inf := sdk.NewInformer(c, podsResource, sdk.InformerOptions{})
//	q := sdk.NewQueue()
//	inf.AddEventHandler(sdk.EnqueueHandler(q))
//	go inf.Run(ctx)
//	inf.WaitForSync(ctx)
//	for { key, done := q.Get(); ... q.Done(key) }
//
// Objects handed out by an informer or lister are shared: never mutate
// them; Clone first (types.Clone or a JSON round trip).
package sdk
