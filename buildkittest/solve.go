package buildkittest

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
	"github.com/tonistiigi/fsutil"

	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/ociimage"
	"github.com/matrixbox/matrixbox/sandbox"
)

// Option changes one solve of [Solve], [Build] or [Dockerfile].
type Option func(*settings)

type settings struct {
	attrs   map[string]string
	stores  map[string]content.Store
	rules   []*spb.Rule
	exports []client.ExportEntry
	edits   []func(*client.SolveOpt)
	expect  *string
	steps   *Steps
	errs    []error // of options that could not be applied
}

// WithFrontendAttr sets a frontend option (SolveOpt.FrontendAttrs), e.g.
// "target", "build-arg:VERSION", or "platform", which then replaces the
// cell's.
func WithFrontendAttr(key, value string) Option {
	return func(s *settings) { s.attrs[key] = value }
}

// WithOCIStore makes store known to BuildKit as the OCI store name
// (SolveOpt.OCIStores), for oci-layout:// sources and named contexts. The
// name is made an id BuildKit reads back unchanged by ociimage.StoreID, as
// ociimage.NamedContext and [SourcePolicy] do with the same name.
func WithOCIStore(name string, store content.Store) Option {
	return func(s *settings) { s.stores[ociimage.StoreID(name)] = store }
}

// WithSourcePolicy adds the rules of p to the solve's source policy
// (SolveOpt.SourcePolicy); see [SourcePolicy].
func WithSourcePolicy(p *spb.Policy) Option {
	return func(s *settings) { s.rules = append(s.rules, p.GetRules()...) }
}

// WithExport exports the result with e instead of into the returned
// directory as files, once per call. The directory is still made and
// returned: an "oci", "docker" or "tar" export without an Output writes
// <dir>/<type>.tar (open it with ociimage.OpenLayout), a "local" one
// without an OutputDir writes into dir.
func WithExport(e client.ExportEntry) Option {
	return func(s *settings) { s.exports = append(s.exports, e) }
}

// WithSolveOpt edits the client.SolveOpt after every other option, for
// what they do not cover: cache imports and exports, session attachables,
// entitlements, local directories of an LLB solve.
func WithSolveOpt(edit func(*client.SolveOpt)) Option {
	return func(s *settings) { s.edits = append(s.edits, edit) }
}

// ExpectError makes the solve one that must fail with substr in its error
// (which carries the failing step's output, so a RUN step's stderr
// matches): the test fails if it succeeds or fails otherwise. The
// function then returns "".
func ExpectError(substr string) Option {
	return func(s *settings) { s.expect = &substr }
}

// Def is what [Solve] solves: an llb.State, marshalled for the cell's
// platform, or an *llb.Definition, solved as it is.
type Def interface {
	llb.State | *llb.Definition
}

// Solve solves an LLB graph on sb's BuildKit and exports the result into a
// fresh directory, which it returns. A state is marshalled for the cell's
// platform (the platform axis; BuildKit's default without one), so that
// llb.Image picks that platform's manifest and steps run as it. The
// progress goes to the sandbox log "buildkit", printed if the test fails;
// a failed solve fails t with an error that carries the failing step's
// output.
func Solve[D Def](t testing.TB, sb sandbox.Sandbox, def D, opts ...Option) string {
	t.Helper()
	var d *llb.Definition
	switch v := any(def).(type) {
	case *llb.Definition:
		d = v
	case llb.State:
		var co []llb.ConstraintsOpt
		if p, ok := cellPlatform(sb); ok {
			co = append(co, llb.Platform(p))
		}
		var err error
		if d, err = v.Marshal(sb.Context(), co...); err != nil {
			t.Fatalf("buildkittest: marshal LLB: %v", err)
		}
	}
	if d == nil {
		t.Fatal("buildkittest: Solve of a nil *llb.Definition")
	}
	return run(t, sb, "LLB solve", opts, func(c *client.Client, opt client.SolveOpt, ch chan *client.SolveStatus) error {
		_, err := c.Solve(sb.Context(), d, opt, ch)
		return err
	})
}

// Build runs build, a gateway build function (a frontend in the test
// process), on sb's BuildKit and exports its result into a fresh
// directory, which it returns. The frontend options (build.BuildOpts().Opts)
// carry "platform", the cell's platform, when the cell has one; use
// [LLBPlatform] for the states it builds. Progress and errors are as for
// [Solve].
func Build(t testing.TB, sb sandbox.Sandbox, build gateway.BuildFunc, opts ...Option) string {
	t.Helper()
	opts = append([]Option{cellPlatformAttr(sb)}, opts...)
	return run(t, sb, "gateway build", opts, func(c *client.Client, opt client.SolveOpt, ch chan *client.SolveStatus) error {
		_, err := c.Build(sb.Context(), opt, "matrixbox", build, ch)
		return err
	})
}

// Dockerfile builds dockerfile with BuildKit's Dockerfile frontend on sb,
// for the cell's platform, and exports the result into a fresh directory,
// which it returns. files (name → content, "dir/name" making dir) are
// written next to the Dockerfile as the build context. Progress and
// errors are as for [Solve].
func Dockerfile(t testing.TB, sb sandbox.Sandbox, dockerfile string, files map[string]string, opts ...Option) string {
	t.Helper()
	ctxDir, err := writeContext(sb, dockerfile, files)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := fsutil.NewFS(ctxDir)
	if err != nil {
		t.Fatalf("buildkittest: build context: %v", err)
	}
	opts = append([]Option{cellPlatformAttr(sb), WithSolveOpt(func(o *client.SolveOpt) {
		o.Frontend = "dockerfile.v0"
		if o.LocalMounts == nil {
			o.LocalMounts = map[string]fsutil.FS{}
		}
		o.LocalMounts["context"] = fs
		o.LocalMounts["dockerfile"] = fs
	})}, opts...)
	return run(t, sb, "Dockerfile build", opts, func(c *client.Client, opt client.SolveOpt, ch chan *client.SolveStatus) error {
		_, err := c.Solve(sb.Context(), nil, opt, ch)
		return err
	})
}

// writeContext writes the build context into a new directory of sb.
func writeContext(sb sandbox.Sandbox, dockerfile string, files map[string]string) (string, error) {
	dir, err := os.MkdirTemp(sb.TempDir(), "context-")
	if err != nil {
		return "", fmt.Errorf("buildkittest: build context: %w", err)
	}
	all := maps.Clone(files)
	if all == nil {
		all = map[string]string{}
	}
	if dockerfile != "" {
		if _, ok := all["Dockerfile"]; ok {
			return "", fmt.Errorf("buildkittest: a Dockerfile given twice, as the argument and in files")
		}
		all["Dockerfile"] = dockerfile
	}
	if _, ok := all["Dockerfile"]; !ok {
		return "", fmt.Errorf("buildkittest: no Dockerfile: pass one, or name one in files")
	}
	for name, data := range all {
		if !filepath.IsLocal(name) {
			return "", fmt.Errorf("buildkittest: build context file %q is not a relative path inside the context", name)
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", fmt.Errorf("buildkittest: build context: %w", err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			return "", fmt.Errorf("buildkittest: build context: %w", err)
		}
	}
	return dir, nil
}

// cellPlatform is the cell's platform, when it has a platform axis.
func cellPlatform(sb sandbox.Sandbox) (platform.Platform, bool) {
	if sb.Value(platform.AxisName) == nil {
		return platform.Platform{}, false
	}
	return platform.From(sb), true
}

// cellPlatformAttr sets the frontend's "platform" to the cell's, before
// the caller's options, which may replace it.
func cellPlatformAttr(sb sandbox.Sandbox) Option {
	return func(s *settings) {
		if p, ok := cellPlatform(sb); ok {
			s.attrs[frontendPlatformKey] = platform.Format(p)
		}
	}
}

// frontendPlatformKey is the frontend option that selects the platform a
// Dockerfile or gateway frontend builds for.
const frontendPlatformKey = "platform"

// logMu serialises this package's additions to sandbox logs.
var logMu sync.Mutex

// run makes the SolveOpt from opts, solves with do and handles the
// outcome. It is the whole life of one solve of this package.
func run(t testing.TB, sb sandbox.Sandbox, what string, opts []Option, do func(*client.Client, client.SolveOpt, chan *client.SolveStatus) error) string {
	t.Helper()
	s := settings{attrs: map[string]string{}, stores: map[string]content.Store{}}
	for _, o := range opts {
		o(&s)
	}
	if err := errors.Join(s.errs...); err != nil {
		t.Fatalf("buildkittest: %s on %s: %v", what, sb.Name(), err)
	}
	out, err := os.MkdirTemp(sb.TempDir(), "out-")
	if err != nil {
		t.Fatalf("buildkittest: output directory: %v", err)
	}
	opt := s.solveOpt(out)
	c, err := newClient(sb)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	ch := make(chan *client.SolveStatus)
	p := newProgress()
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.consume(ch)
	}()
	err = do(c, opt, ch) // closes ch
	<-done
	if s.steps != nil {
		*s.steps = p.result()
	}
	logSolve(sb, what, p, err)
	if err != nil {
		err = fmt.Errorf("buildkittest: %s on %s: %w%s", what, sb.Name(), err, p.failures())
	}
	switch {
	case s.expect == nil && err != nil:
		t.Fatal(err)
	case s.expect != nil && err == nil:
		t.Fatalf("buildkittest: %s on %s succeeded, want an error containing %q", what, sb.Name(), *s.expect)
	case s.expect != nil && !strings.Contains(err.Error(), *s.expect):
		t.Fatalf("buildkittest: %s on %s failed, but without %q in its error:\n%v", what, sb.Name(), *s.expect, err)
	case s.expect != nil:
		return ""
	}
	return out
}

// solveOpt turns the settings into a client.SolveOpt exporting to out.
func (s *settings) solveOpt(out string) client.SolveOpt {
	var opt client.SolveOpt
	if len(s.attrs) > 0 {
		opt.FrontendAttrs = s.attrs
	}
	if len(s.stores) > 0 {
		opt.OCIStores = s.stores
	}
	if len(s.rules) > 0 {
		opt.SourcePolicy = &spb.Policy{Version: 1, Rules: s.rules}
	}
	exports := s.exports
	if len(exports) == 0 {
		exports = []client.ExportEntry{{Type: client.ExporterLocal}}
	}
	for _, e := range exports {
		switch e.Type {
		case client.ExporterLocal:
			if e.OutputDir == "" {
				e.OutputDir = out
			}
		case client.ExporterOCI, client.ExporterDocker, client.ExporterTar:
			if e.Output == nil {
				e.Output = fileOutput(filepath.Join(out, e.Type+".tar"))
			}
		}
		opt.Exports = append(opt.Exports, e)
	}
	for _, edit := range s.edits {
		edit(&opt)
	}
	return opt
}

// fileOutput is an exporter output writing the file path.
func fileOutput(path string) func(map[string]string) (io.WriteCloser, error) {
	return func(map[string]string) (io.WriteCloser, error) {
		return os.Create(path)
	}
}

// logSolve appends the solve's progress to the sandbox log "buildkit".
func logSolve(sb sandbox.Sandbox, what string, p *progress, err error) {
	logMu.Lock()
	defer logMu.Unlock()
	outcome := "done"
	if err != nil {
		outcome = "failed: " + err.Error()
	}
	fmt.Fprintf(sb.Logs().Writer("buildkit"), "----- %s -----\n%s----- %s %s -----\n", what, p.text.String(), what, outcome)
}
