package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

func newSetCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "set SUBCOMMAND",
		Short: "Change a field of existing objects (image)",
		Example: `  # Roll a deployment out to a new image of its container "web"
  wharf set image deployment/web web=nginx:1.27`,
	}
	cmd.AddCommand(newSetImageCmd(a))
	return cmd
}

// setImageOptions are the flags of set image.
type setImageOptions struct {
	files    fileOptions
	selector string
	all      bool
}

func newSetImageCmd(a *app) *cobra.Command {
	o := &setImageOptions{}
	cmd := &cobra.Command{
		Use:   "image KIND/NAME... CONTAINER=IMAGE...",
		Short: "Change the image of containers of pods, or of the pod template of workloads",
		Long: `Change the image of containers, as kubectl set image does: of a pod, or of the pod
template of a deployment, replica set, stateful set, daemon set, job or cron job.
CONTAINER is the name of a container or init container; "*" is every one of them.
Objects whose images are already those asked for are left as they are.`,
		Example: `  # Roll a deployment out to a new image of its container "web"
  wharf set image deployment/web web=nginx:1.27

  # Change two containers at once (a sidecar and an init container)
  wharf set image deploy web proxy=envoy:v1.31 migrate=example.com/migrate:v2

  # Every container of a cron job's pods, and of a daemon set's
  wharf set image cronjob/report ds/agent '*=example.com/tools:v3'

  # The deployments labelled app=web, or every one of the namespace
  wharf set image deployments -l app=web web=nginx:1.27
  wharf set image deployments --all web=nginx:1.27

  # The objects of a manifest
  wharf set image -f web.yaml web=nginx:1.27`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSetImage(cmd.Context(), a, o, args)
		},
	}
	o.files.addOptionalFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.selector, "selector", "l", "", "set the images of the objects of the types given matching this label selector")
	f.BoolVar(&o.all, "all", false, "set the images of every object of the types given, in the namespace")
	return cmd
}

// podSpecPaths is where each kind keeps the pod spec whose images set
// image changes.
var podSpecPaths = map[string][]string{
	"Pod":         {"spec"},
	"Deployment":  {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
}

// errNoImages: the command line has objects but no CONTAINER=IMAGE.
var errNoImages = errors.New("at least one image update is required: CONTAINER=IMAGE")

// splitImageArgs separates the objects (before the first CONTAINER=IMAGE)
// from the images by container name, as kubectl reads its arguments.
func splitImageArgs(args []string, withFiles bool) (objects []string, images map[string]string, err error) {
	images = map[string]string{}
	for i, arg := range args {
		name, image, ok := strings.Cut(arg, "=")
		if !ok {
			if len(images) > 0 {
				return nil, nil, fmt.Errorf("all resources must be specified before image changes: %s", arg)
			}
			objects = args[:i+1]
			continue
		}
		if name == "" || image == "" {
			return nil, nil, fmt.Errorf("%q: want CONTAINER=IMAGE", arg)
		}
		images[name] = image
	}
	if len(objects) == 0 && !withFiles {
		return nil, nil, errors.New("name the objects whose images to set, e.g. deployment/web, or give -f FILE")
	}
	if len(images) == 0 {
		return nil, nil, errNoImages
	}
	if _, all := images["*"]; all && len(images) > 1 {
		return nil, nil, errors.New("all containers are already specified by *, but saw more than one container_name=container_image pairs")
	}
	return objects, images, nil
}

func runSetImage(ctx context.Context, a *app, o *setImageOptions, args []string) error {
	objects, images, err := splitImageArgs(args, len(o.files.files) > 0)
	if err != nil {
		return err
	}
	if o.all && o.selector != "" {
		return errors.New("give --all or -l, not both")
	}
	targets, err := targetsOf(a, objects, &o.files)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if podSpecPaths[t.res.Kind] == nil {
			return fmt.Errorf("%s have no containers whose image to set (pods, deployments, replicasets, statefulsets, daemonsets, jobs and cronjobs do)", t.res.Name)
		}
		switch {
		case len(t.names) > 0 && (o.all || o.selector != ""):
			return errors.New("give object names, or --all or -l, not both")
		case len(t.names) == 0 && !o.all && o.selector == "":
			return fmt.Errorf("name the %s whose images to set (e.g. %s/NAME), or give -l SELECTOR or --all", t.res.Name, t.res.SingularName)
		}
	}
	c, err := a.Client()
	if err != nil {
		return err
	}
	failed := false
	for _, t := range targets {
		rc := c.Resource(t.res).Namespace(a.namespace)
		objs := make([]types.Object, 0, len(t.names))
		if len(t.names) == 0 {
			l, err := rc.List(ctx, sdk.ListOptions{LabelSelector: o.selector})
			if err != nil {
				return err
			}
			objs = l.Items
		}
		named, found, err := getNamed(ctx, a, rc, t.names)
		if err != nil {
			return err
		}
		failed = failed || !found
		objs = append(objs, named...)
		for _, obj := range objs {
			name := obj.GetObjectMeta().Name
			patch, missing, err := imagePatch(obj, podSpecPaths[t.res.Kind], images)
			if err != nil {
				return err
			}
			// As kubectl: the containers found are changed even when
			// others are not found; no change, nothing said.
			if patch != nil {
				if _, err := rc.Patch(ctx, name, sdk.StrategicMergePatch, patch); err != nil {
					if err := objectErr(a, err); err != nil {
						return err
					}
					failed = true
					continue
				}
				fmt.Fprintf(a.out, "%s/%s image updated\n", qualifiedKind(t.res), name)
			}
			for _, m := range missing {
				fmt.Fprintf(a.errOut, "error: unable to find container named %q\n", m)
				failed = true
			}
		}
	}
	if failed {
		return errAlreadyReported{}
	}
	return nil
}

// imagePatch returns the strategic merge patch that sets the images of
// the containers and init containers of the pod spec at path of o (merged
// by name: the other containers and fields are left alone), nil when no
// image changes, and the container names of images that match none.
func imagePatch(o types.Object, path []string, images map[string]string) (patch []byte, missing []string, err error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, nil, fmt.Errorf("set image: %w", err)
	}
	var v obj
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, nil, fmt.Errorf("set image: %w", err)
	}
	spec := v.sub(path...)
	found := map[string]bool{}
	lists := map[string]any{}
	for _, field := range []string{"initContainers", "containers"} {
		var set []map[string]string
		for _, ctr := range spec.list(field) {
			name := ctr.str("name")
			image, ok := images[name]
			if !ok {
				image, ok = images["*"]
			}
			if !ok {
				continue
			}
			found[name] = true
			if ctr.str("image") != image {
				set = append(set, map[string]string{"name": name, "image": image})
			}
		}
		if len(set) > 0 {
			lists[field] = set
		}
	}
	for name := range images {
		if name != "*" && !found[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(lists) == 0 {
		return nil, missing, nil
	}
	var p any = lists
	for i := len(path) - 1; i >= 0; i-- {
		p = map[string]any{path[i]: p}
	}
	if patch, err = json.Marshal(p); err != nil {
		return nil, nil, fmt.Errorf("set image: %w", err)
	}
	return patch, missing, nil
}
