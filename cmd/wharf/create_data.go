package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/api/validation/names"
	"github.com/wharfhq/wharf/sdk"
)

// dataSources are the --from-* flags of create configmap and create
// secret generic, as kubectl's.
type dataSources struct {
	literals, files, envFiles []string
}

func (s *dataSources) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&s.literals, "from-literal", nil, "a key and literal value (key=value); repeatable")
	f.StringSliceVar(&s.files, "from-file", nil, "a file ([key=]path; the key defaults to the file's name) or a directory (each regular file in it); repeatable")
	f.StringSliceVar(&s.envFiles, "from-env-file", nil, "a file of KEY=value lines (# comments; a KEY alone takes the value from the environment); repeatable")
}

// collect calls add for each key and value of the sources, in kubectl's
// order (files, then literals; or env files alone). binary is true for a
// file's content that is not UTF-8.
func (s *dataSources) collect(add func(key string, value []byte, binary bool) error) error {
	if len(s.envFiles) > 0 && (len(s.files) > 0 || len(s.literals) > 0) {
		return errors.New("from-env-file cannot be combined with from-file or from-literal")
	}
	for _, src := range s.files {
		if err := addFileSource(src, add); err != nil {
			return err
		}
	}
	for _, src := range s.literals {
		key, value, ok := strings.Cut(src, "=")
		if !ok || key == "" {
			return fmt.Errorf("invalid literal source %s, expected key=value", src)
		}
		if err := add(key, []byte(value), false); err != nil {
			return err
		}
	}
	for _, p := range s.envFiles {
		if err := addEnvFile(p, add); err != nil {
			return err
		}
	}
	return nil
}

// parseFileSource splits a --from-file value into key and path, with
// kubectl's messages.
func parseFileSource(src string) (key, p string, err error) {
	switch n := strings.Count(src, "="); {
	case n == 0:
		return path.Base(filepath.ToSlash(src)), src, nil
	case n > 1:
		return "", "", errors.New("key names or file paths cannot contain '='")
	case strings.HasPrefix(src, "="):
		return "", "", fmt.Errorf("key name for file path %s missing", src[1:])
	case strings.HasSuffix(src, "="):
		return "", "", fmt.Errorf("file path for key name %s missing", src[:len(src)-1])
	}
	key, p, _ = strings.Cut(src, "=")
	return key, p, nil
}

func addFileSource(src string, add func(string, []byte, bool) error) error {
	key, p, err := parseFileSource(src)
	if err != nil {
		return err
	}
	info, err := os.Stat(p)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("error reading %s: %w", p, err)
	}
	if !info.IsDir() {
		return addFile(key, p, add)
	}
	if strings.Contains(src, "=") {
		return errors.New("cannot give a key name for a directory path")
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return fmt.Errorf("error listing files in %s: %w", p, err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := addFile(e.Name(), filepath.Join(p, e.Name()), add); err != nil {
				return err
			}
		}
	}
	return nil
}

func addFile(key, p string, add func(string, []byte, bool) error) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("error reading %s: %w", p, err)
	}
	return add(key, b, !utf8.Valid(b))
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// addEnvFile adds the KEY=value lines of an env file as kubectl reads
// them: leading space and # comment lines skipped, a BOM dropped from the
// first line, a KEY with no = taking its value from the environment.
func addEnvFile(p string, add func(string, []byte, bool) error) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("error reading %s: %w", p, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan(); n++ {
		line := sc.Bytes()
		if !utf8.Valid(line) {
			return fmt.Errorf("env file %s contains invalid utf8 bytes at line %d: %v", p, n+1, line)
		}
		if n == 0 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		line = bytes.TrimLeftFunc(line, unicode.IsSpace)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, value, ok := strings.Cut(string(line), "=")
		if errs := names.IsEnvVarName(key); len(errs) != 0 {
			return fmt.Errorf("%q is not a valid key name: %s", key, strings.Join(errs, ";"))
		}
		if !ok {
			value = os.Getenv(key)
		}
		if err := add(key, []byte(value), false); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("error reading %s: %w", p, err)
	}
	return nil
}

// configKeyRe is kubectl's client-side key check. It is not
// names.IsConfigMapKey because kubectl words its message differently (two
// spaces before each "or", and no "must not be empty"), and these errors
// are printed as kubectl prints them.
var configKeyRe = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// configKeyErrs returns kubectl's complaints about a ConfigMap or Secret
// key, none if it is valid.
func configKeyErrs(key string) []string {
	var errs []string
	if len(key) > names.DNS1123SubdomainMaxLength {
		errs = append(errs, fmt.Sprintf("must be no more than %d characters", names.DNS1123SubdomainMaxLength))
	}
	if !configKeyRe.MatchString(key) {
		errs = append(errs, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
	}
	switch {
	case key == ".":
		errs = append(errs, "must not be '.'")
	case key == "..":
		errs = append(errs, "must not be '..'")
	case strings.HasPrefix(key, ".."):
		errs = append(errs, "must not start with '..'")
	}
	return errs
}

// configMapFrom builds the ConfigMap kubectl create configmap makes.
func configMapFrom(a *app, name string, s *dataSources) (*types.ConfigMap, error) {
	cm := &types.ConfigMap{TypeMeta: types.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: types.ObjectMeta{Name: name}}
	if a.namespaceSet {
		cm.Namespace = a.namespace
	}
	err := s.collect(func(key string, value []byte, binary bool) error {
		if errs := configKeyErrs(key); len(errs) != 0 {
			return fmt.Errorf("%q is not a valid key name for a ConfigMap: %s", key, strings.Join(errs, ","))
		}
		if _, ok := cm.Data[key]; ok {
			return fmt.Errorf("cannot add key %q, another key by that name already exists in Data for ConfigMap %q", key, name)
		}
		if _, ok := cm.BinaryData[key]; ok {
			return fmt.Errorf("cannot add key %q, another key by that name already exists in BinaryData for ConfigMap %q", key, name)
		}
		if binary {
			if cm.BinaryData == nil {
				cm.BinaryData = map[string][]byte{}
			}
			cm.BinaryData[key] = value
			return nil
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[key] = string(value)
		return nil
	})
	return cm, err
}

// secretFrom builds the Secret kubectl create secret generic makes.
func secretFrom(a *app, name, typ string, s *dataSources) (*types.Secret, error) {
	sec := &types.Secret{TypeMeta: types.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: types.ObjectMeta{Name: name}, Type: types.SecretType(typ)}
	if a.namespaceSet {
		sec.Namespace = a.namespace
	}
	err := s.collect(func(key string, value []byte, _ bool) error {
		if errs := configKeyErrs(key); len(errs) != 0 {
			return fmt.Errorf("%q is not valid key name for a Secret %s", key, strings.Join(errs, ";"))
		}
		if _, ok := sec.Data[key]; ok {
			return fmt.Errorf("cannot add key %s, another key by that name already exists", key)
		}
		if sec.Data == nil {
			sec.Data = map[string][]byte{}
		}
		sec.Data[key] = value
		return nil
	})
	return sec, err
}

// resourceOfObject returns the registered resource of obj's apiVersion
// and kind.
func resourceOfObject(obj types.Object) (*types.Resource, error) {
	tm := obj.GetTypeMeta()
	res, ok := types.ResourceForKind(tm.APIVersion, tm.Kind)
	if !ok {
		return nil, fmt.Errorf("%s %s: %w", tm.APIVersion, tm.Kind, sdk.ErrUnregisteredType)
	}
	return res, nil
}

// oneName checks for the single NAME argument of a create subcommand.
func oneName(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("exactly one NAME is required, got %d (wharf create %s NAME)", len(args), what)
		}
		return nil
	}
}

func newCreateConfigMapCmd(a *app) *cobra.Command {
	s := &dataSources{}
	d := &dryRunOptions{}
	cmd := &cobra.Command{
		Use:     "configmap NAME [--from-file=[key=]source] [--from-literal=key=value] [--from-env-file=source]",
		Aliases: []string{"cm"},
		Short:   "Create a ConfigMap from files, directories, literal values or env files",
		Example: `  # A config map of each file of a directory
  wharf create configmap my-config --from-file=path/to/dir

  # Keys named other than after their files
  wharf create configmap my-config --from-file=key1=/path/a.txt --from-file=key2=/path/b.txt

  # Literal values
  wharf create configmap my-config --from-literal=key1=config1 --from-literal=key2=config2

  # The KEY=value lines of env files
  wharf create configmap my-config --from-env-file=path/to/foo.env --from-env-file=path/to/bar.env`,
		Args: oneName("configmap"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cm, err := configMapFrom(a, args[0], s)
			if err != nil {
				return err
			}
			return createObject(cmd.Context(), a, d, cm, "failed to create configmap: ")
		},
	}
	s.addFlags(cmd)
	d.addFlags(cmd)
	return cmd
}

func newCreateSecretCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret generic NAME [flags]",
		Short: "Create a Secret (only generic secrets so far)",
		Example: `  # A secret of literal values
  wharf create secret generic db --from-literal=user=admin --from-literal=password=s3cret`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("create secret needs a type of secret: wharf create secret generic NAME")
		},
	}
	cmd.AddCommand(newCreateSecretGenericCmd(a))
	return cmd
}

func newCreateSecretGenericCmd(a *app) *cobra.Command {
	s := &dataSources{}
	d := &dryRunOptions{}
	var typ string
	cmd := &cobra.Command{
		Use:   "generic NAME [--type=string] [--from-file=[key=]source] [--from-literal=key=value] [--from-env-file=source]",
		Short: "Create a Secret from files, directories, literal values or env files",
		Example: `  # A secret of each file of a directory
  wharf create secret generic my-secret --from-file=path/to/bar

  # Keys named other than after their files
  wharf create secret generic my-secret --from-file=ssh-privatekey=path/to/id_rsa --from-file=ssh-publickey=path/to/id_rsa.pub

  # Literal values, and a type other than Opaque
  wharf create secret generic my-secret --from-literal=key1=supersecret --type=example.com/token

  # The KEY=value lines of env files
  wharf create secret generic my-secret --from-env-file=path/to/foo.env`,
		Args: oneName("secret generic"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sec, err := secretFrom(a, args[0], typ, s)
			if err != nil {
				return err
			}
			return createObject(cmd.Context(), a, d, sec, "failed to create secret ") // sic, as kubectl
		},
	}
	s.addFlags(cmd)
	d.addFlags(cmd)
	cmd.Flags().StringVar(&typ, "type", "", "the type of the secret (the server defaults it to Opaque)")
	return cmd
}

func newCreateNamespaceCmd(a *app) *cobra.Command {
	d := &dryRunOptions{}
	cmd := &cobra.Command{
		Use:     "namespace NAME",
		Aliases: []string{"ns"},
		Short:   "Create a Namespace",
		Example: `  # A namespace named my-namespace
  wharf create namespace my-namespace`,
		Args: oneName("namespace"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ns := &types.Namespace{TypeMeta: types.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: types.ObjectMeta{Name: args[0]}}
			return createObject(cmd.Context(), a, d, ns, "")
		},
	}
	d.addFlags(cmd)
	return cmd
}

// createObject creates obj (in --namespace if its resource is
// namespaced) and prints "KIND/NAME created", or with --dry-run what
// would be created. A server's error is prefixed with failPrefix, as
// kubectl words it.
func createObject(ctx context.Context, a *app, d *dryRunOptions, obj types.Object, failPrefix string) error {
	res, err := resourceOfObject(obj)
	if err != nil {
		return err
	}
	if err := d.check(a); err != nil {
		return err
	}
	ns := ""
	if res.Namespaced {
		ns = a.namespace
	}
	out := obj
	if d.mode != dryRunClient {
		c, err := a.Client()
		if err != nil {
			return err
		}
		if out, err = c.Resource(res).Namespace(ns).Create(ctx, obj); err != nil {
			if failPrefix == "" {
				return err
			}
			return fmt.Errorf("%s%w", failPrefix, err)
		}
	}
	return d.report(a, res, out, "created")
}
