package workers

import (
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/box"
	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// WithRootless names the worker after its rootful one, unless WithName
// names it, keeps its axes, and takes FeatureRootful away.
func TestRootlessWorkers(t *testing.T) {
	for _, c := range []struct {
		w, rootful sandbox.Worker
		name       string
	}{
		{BuildkitdOCI(WithRootless()), BuildkitdOCI(), "buildkitd-oci-rootless"},
		{BuildkitdContainerd(WithRootless()), BuildkitdContainerd(), "buildkitd-containerd-rootless"},
		{BuildkitdOCI(WithName("oci-rootless"), WithRootless()), BuildkitdOCI(), "oci-rootless"},
		{BuildkitdOCI(WithRootless(), WithName("oci-rootless")), BuildkitdOCI(), "oci-rootless"},
	} {
		if got := c.w.Name(); got != c.name {
			t.Errorf("name %q, want %q", got, c.name)
		}
		axes := func(w sandbox.Worker) []string {
			var out []string
			for _, a := range w.(sandbox.Versioned).Axes() {
				out = append(out, a.Name)
			}
			return out
		}
		if got, want := axes(c.w), axes(c.rootful); !slices.Equal(got, want) {
			t.Errorf("%s: axes %v, want the rootful worker's %v", c.name, got, want)
		}
		if supports(c.w, FeatureRootful) || !supports(c.rootful, FeatureRootful) {
			t.Errorf("%s: rootless supports %s: %v, rootful: %v; want false, true", c.name, FeatureRootful,
				supports(c.w, FeatureRootful), supports(c.rootful, FeatureRootful))
		}
		for _, f := range buildkitdFeatures {
			if f != FeatureRootful && !supports(c.w, f) {
				t.Errorf("%s lacks %s, which BuildKit's harness gives its rootless workers", c.name, f)
			}
		}
		at := c.w.(sandbox.Versioned).At(matrix.Cell{})
		if at.Name() != c.name || supports(at, FeatureRootful) {
			t.Errorf("%s at a version: name %q, rootful %v", c.name, at.Name(), supports(at, FeatureRootful))
		}
	}
	err := Dockerd(WithRootless()).(sandbox.Checker).Check()
	if want := `workers.WithRootless: worker "dockerd" (workers.Dockerd) does not read it; only workers.BuildkitdOCI and workers.BuildkitdContainerd read it`; !errors.Is(err, sandbox.ErrMisconfigured) || !strings.Contains(err.Error(), want) {
		t.Errorf("Dockerd(WithRootless()).Check() = %v, want a misconfiguration saying %q", err, want)
	}
}

// Check names what the machine lacks for a rootless worker, with the
// command that sets it up.
func TestRootlessCheckSaysWhatIsMissing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the rootless workers' Check wants root first")
	}
	t.Run("user", func(t *testing.T) {
		defer func(n string) { rootlessUserName = n }(rootlessUserName)
		rootlessUserName = "mbx-no-such-user"
		err := BuildkitdOCI(WithRootless()).(sandbox.Checker).Check()
		for _, want := range []string{"the user mbx-no-such-user, whom the rootless workers run their daemons as, does not exist", "run " + daemons.InstallCommand + " as root"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Check() = %v, want it to say %q", err, want)
			}
		}
	})
	t.Run("subordinate ids", func(t *testing.T) {
		if _, err := user.Lookup(daemons.RootlessUser); err != nil {
			t.Skipf("no user %s: %v", daemons.RootlessUser, err)
		}
		defer func(f []string) { subIDFiles = f }(subIDFiles)
		dir := t.TempDir()
		subIDFiles = []string{filepath.Join(dir, "subuid"), filepath.Join(dir, "subgid")}
		if err := os.WriteFile(subIDFiles[0], []byte(daemons.RootlessUser+":100000:1000\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := BuildkitdContainerd(WithRootless()).(sandbox.Checker).Check()
		for _, want := range []string{
			subIDFiles[0] + " gives the user " + daemons.RootlessUser + " 1000 subordinate ids, not the 65536 the rootless workers need: run " + daemons.InstallCommand + " as root",
			subIDFiles[1] + " gives the user " + daemons.RootlessUser + " 0 subordinate ids",
		} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Check() = %v, want it to say %q", err, want)
			}
		}
	})
	t.Run("a directory the user cannot reach", func(t *testing.T) {
		base := t.TempDir()
		// The test's own directories: searchable, so that only dir is not.
		for _, d := range []string{base, filepath.Dir(base)} {
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatal(err)
			}
		}
		dir := filepath.Join(base, "private")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		u := rootlessUser{name: "nobody", uid: 65534, gid: 65534}
		err := u.reaches(dir)
		if want := "has mode -rwx------; set TMPDIR to a directory every user may reach"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("reaches(%s) = %v, want it to say %q", dir, err, want)
		}
		if err := os.Chmod(dir, 0o711); err != nil {
			t.Fatal(err)
		}
		if err := u.reaches(dir); err != nil {
			t.Errorf("reaches(%s) once searchable = %v", dir, err)
		}
	})
}

func supports(w sandbox.Worker, feature string) bool {
	return w.(sandbox.Supporter).Supports(feature)
}

// kitWorker is a backend of nothing but a rootless backend's RootlessKit.
type kitWorker struct{ containerd bool }

func (kitWorker) Name() string { return "rootlesskit" }

func (w kitWorker) New(ctx context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	cl := &sandbox.Cleanups{}
	if _, err := newRootless(ctx, cfg, cl, w.containerd); err != nil {
		return nil, nil, errors.Join(err, cl.Run())
	}
	return &backend{}, cl.Run, nil
}

// A rootless backend's RootlessKit stops cleanly, every time, even right
// after it started: RootlessKit's child, killed by a SIGTERM it did not
// relay, made RootlessKit fail with status 255 on one stop in eight of a
// long-lived holder, and on most stops right after the start. Sixteen
// stops of each kind (with and without containerd's /run).
func TestRootlessKitStopsCleanly(t *testing.T) {
	if err := checkRootless(); err != nil {
		t.Skip(err)
	}
	for i := range 32 {
		logs := sandbox.NewLogs()
		r, err := box.StartBackend(t.Context(), kitWorker{containerd: i%2 == 1}, sandbox.Config{Logs: logs})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Stop(); err != nil {
			t.Fatalf("stop %d: %v\n%s", i+1, err, logs.String())
		}
	}
}
