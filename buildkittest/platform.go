package buildkittest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// LLBPlatform is the LLB constraint that makes a state build for the
// cell's platform (a cell without a platform axis builds for this
// machine's): for the states a [Build] function makes, or an
// *llb.Definition marshalled by hand. [Solve] applies it to a state itself.
func LLBPlatform(sb platform.Valuer) llb.ConstraintsOpt {
	return llb.Platform(platform.From(sb))
}

// WorkerLister is what the platform checks need of a BuildKit client;
// *client.Client satisfies it.
type WorkerLister interface {
	ListWorkers(ctx context.Context, opts ...client.ListWorkersOption) ([]*client.WorkerInfo, error)
}

// WorkerPlatforms returns the platforms BuildKit's workers say they run,
// each once, in the order reported. BuildKit lists a foreign architecture
// only when it could execute a probe binary of it when asked (binfmt_misc
// or its own emulator), and never forgets one it once listed.
func WorkerPlatforms(ctx context.Context, c WorkerLister) ([]ocispec.Platform, error) {
	ws, err := c.ListWorkers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list BuildKit workers: %w", err)
	}
	var out []ocispec.Platform
	seen := map[string]bool{}
	for _, w := range ws {
		for _, p := range w.Platforms {
			k := platforms.Format(platforms.Normalize(p))
			if !seen[k] {
				seen[k] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// ListsPlatform reports whether one of have can run code of p: the same
// OS and architecture, and for amd64 a variant at least p's level.
func ListsPlatform(have []ocispec.Platform, p ocispec.Platform) bool {
	want := platforms.Normalize(p)
	for _, h := range have {
		if platforms.Only(h).Match(want) {
			return true
		}
	}
	return false
}

// CheckWorkerPlatform returns nil when BuildKit's workers list p, and
// otherwise an error naming p, what the workers list, and what this
// machine lacks to run p (from platform.Runnable), e.g. "apt-get install
// qemu-user-static".
func CheckWorkerPlatform(ctx context.Context, c WorkerLister, p ocispec.Platform) error {
	have, err := WorkerPlatforms(ctx, c)
	if err != nil {
		return err
	}
	return missingPlatform(have, p, "the BuildKit daemon")
}

// missingPlatform explains why have lacks p; daemon names the process
// whose probe found the platforms.
func missingPlatform(have []ocispec.Platform, p ocispec.Platform, daemon string) error {
	if ListsPlatform(have, p) {
		return nil
	}
	names := make([]string, len(have))
	for i, h := range have {
		names[i] = platforms.Format(h)
	}
	msg := fmt.Sprintf("BuildKit cannot run %s: its workers list %s", platform.Format(p), strings.Join(names, ", "))
	if how, err := platform.Runnable(p); err != nil {
		msg += "; " + err.Error()
	} else {
		// The machine can, so the daemon probed before the emulator was
		// there: only a new one sees it.
		msg += fmt.Sprintf("; this machine runs it (%s), but %s did not find that when it probed at start: restart it", how, daemon)
	}
	return errors.New(msg)
}

// RequireWorkerPlatform skips t unless sb's BuildKit lists the cell's
// platform, with a reason naming the platform and what is missing: an
// emulator to install, a daemon that probed before it was installed, or a
// worker that has no architecture variants at all (dockerd 20.10; a test
// that needs them declares integration.Requires(workers.FeaturePlatformVariants)
// and is skipped before the daemon starts). It fails t when the workers
// cannot be listed. Tests that execute code of the cell's platform (RUN
// steps) call it; tests that only select or inspect images of that
// platform need not.
func RequireWorkerPlatform(t testing.TB, sb sandbox.Sandbox) {
	t.Helper()
	p := platform.From(sb)
	c, err := newClient(sb)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	have, err := WorkerPlatforms(sb.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	daemon := "buildkitd"
	if workers.DockerAddress(sb) != "" {
		daemon = "dockerd"
	}
	err = missingPlatform(have, p, daemon)
	if err == nil {
		return
	}
	if p.Variant != "" && !sandbox.Supports(sb, workers.FeaturePlatformVariants) {
		t.Skipf("%s: its worker lacks feature %q: %s's BuildKit has no architecture variants, so it cannot build for %s (declare integration.Requires(workers.FeaturePlatformVariants) to skip before the daemon starts)",
			sb.Name(), workers.FeaturePlatformVariants, daemon, platform.Format(p))
		return
	}
	t.Skip(err.Error())
}
