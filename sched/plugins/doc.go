// Package plugins holds the scheduler's built-in filter and score plugins
// and the registry and default set that enable them. Each plugin is pure: it
// reads the Pod, the NodeInfo and the cycle's Snapshot, never the API.
package plugins
