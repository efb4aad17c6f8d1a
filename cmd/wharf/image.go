package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image"
)

func init() { verbs = append(verbs, newImageCmd) }

// imagesDir is where a node keeps its images: the runtimes of `wharf up`
// and `wharf agent` share one store under DATA-DIR/runtimes/images.
func imagesDir(dataDir string) string {
	return filepath.Join(dataDir, "runtimes", "images")
}

// openImageStore opens the image store of the node whose data directory
// is dataDir. The store must exist (a node makes it when it starts): a
// wrong --data-dir, or the default of wharf up where an agent was meant,
// would otherwise fill a store no node reads. dataDirSet says whether
// --data-dir was given, for the hint.
func openImageStore(dataDir string, dataDirSet bool, opts ...image.Option) (*image.Store, error) {
	dir := imagesDir(dataDir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		hint := fmt.Sprintf("give --data-dir the data directory of the node: wharf up's is %s by default, wharf agent's %s", defaultDataDir, defaultAgentDataDir)
		if _, err := os.Stat(imagesDir(defaultAgentDataDir)); err == nil && !dataDirSet {
			hint = fmt.Sprintf("the node of wharf agent here keeps its images in %s: add --data-dir %s", defaultAgentDataDir, defaultAgentDataDir)
		}
		return nil, fmt.Errorf("no node image store in %s (a node makes it when it first starts): %s", dir, hint)
	} else if err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	return image.NewStore(dir, opts...)
}

// newImageCmd manages the image store of the node on this machine. Like
// `ctr images import` it works on the local store directly (the node agent
// need not run), so machines with no registry can run any image.
func newImageCmd(a *app) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Load, pull and list the images of this machine's node",
		Long: `Manage the image store of the node on this machine: the node that "wharf up"
or "wharf agent" runs with the same --data-dir. Without --data-dir that is
the node of "wharf up" (./wharf-data); for "wharf agent" give its --data-dir
(./wharf-agent-data unless it was started with another). The node must have
started once (it makes the store); it need not be running. Pods find loaded
images by the name recorded in the archive; give them imagePullPolicy:
IfNotPresent or Never so the node does not try a registry.`,
		Example: `  # Import a docker save or OCI archive into the node of "wharf up"
  wharf image load app.tar

  # ... into the node of "wharf agent" started with its default --data-dir
  wharf image load --data-dir ./wharf-agent-data app.tar

  # Pull from a registry ahead of time, with a progress line
  wharf image pull localhost:5000/team/app:v1

  # List the images
  wharf image ls`,
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", defaultDataDir, "data directory of the node, as given to wharf up (default) or wharf agent (whose default is "+defaultAgentDataDir+")")
	open := func(cmd *cobra.Command, opts ...image.Option) (*image.Store, error) {
		return openImageStore(dataDir, cmd.Flags().Changed("data-dir"), opts...)
	}

	load := &cobra.Command{
		Use:   "load FILE...",
		Short: "Import docker or OCI image archives (or OCI layout directories) into the node of --data-dir",
		Long: `Import docker or OCI image archives, or OCI layout directories, into the
image store of this machine's node: by default the node of "wharf up"
(--data-dir ./wharf-data); for the node of "wharf agent" give its --data-dir
(./wharf-agent-data by default).`,
		Example: `  # docker save, OCI archive, or an OCI layout directory
  wharf image load app.tar
  wharf image load ./oci-layout/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open(cmd)
			if err != nil {
				return err
			}
			for _, path := range args {
				refs, err := s.Load(cmd.Context(), path)
				if err != nil {
					return err
				}
				for _, r := range refs {
					fmt.Fprintf(a.out, "Loaded image: %s\n", r)
				}
			}
			return nil
		},
	}

	var insecure []string
	pull := &cobra.Command{
		Use:   "pull REF",
		Short: "Pull an image from a registry into the node's store",
		Example: `  # Plain http is used for localhost registries
  wharf image pull localhost:5000/team/app:v1

  # Another plain-http registry
  wharf image pull --insecure-registry reg.lan:5000 reg.lan:5000/app:v2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open(cmd, image.WithInsecureRegistries(insecure...))
			if err != nil {
				return err
			}
			p := &progressLine{w: a.errOut}
			img, err := s.Pull(cmd.Context(), args[0], image.PullAlways, p.update)
			p.done()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Pulled %s (%s, %s)\n", img.Ref, img.Digest, humanBytes(img.Size()))
			return nil
		},
	}
	pull.Flags().StringSliceVar(&insecure, "insecure-registry", nil, "registry hosts to reach over plain http")

	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the images in the node's store",
		Example: `  wharf image ls`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := open(cmd)
			if err != nil {
				return err
			}
			imgs, err := s.List()
			if err != nil {
				return err
			}
			if len(imgs) == 0 {
				fmt.Fprintf(a.errOut, "No images in %s (wharf image load or pull adds them).\n", imagesDir(dataDir))
				return nil
			}
			tw := tabwriter.NewWriter(a.out, 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "REF\tDIGEST\tPLATFORM\tSIZE")
			for _, img := range imgs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", img.Ref, shortDigest(img.Digest), img.Platform(), humanBytes(img.Size()))
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(load, pull, ls)
	return cmd
}

// progressLine redraws one status line as layers download.
type progressLine struct {
	w     io.Writer
	drawn bool
}

func (p *progressLine) update(pp runtimes.PullProgress) {
	if pp.AlreadyPresent {
		return
	}
	fmt.Fprintf(p.w, "\rPulling %s: %d/%d layers, %s/%s   ", pp.Ref, pp.LayersDone, pp.LayersTotal,
		humanBytes(pp.BytesDone), humanBytes(pp.BytesTotal))
	p.drawn = true
}

func (p *progressLine) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// humanBytes prints n in binary units ("12.3 MiB").
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
