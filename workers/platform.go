package workers

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
)

// FrontendPlatformKey is the frontend option (SolveOpt.FrontendAttrs key)
// that selects the platform a Dockerfile or gateway frontend builds for.
const FrontendPlatformKey = "platform"

// LLBPlatform is the LLB constraint that makes a state build for the cell's
// platform: llb.Image resolves that platform's manifest, and ops run as it.
// A cell without a platform axis builds for this machine's platform.
func LLBPlatform(sb platform.Valuer) llb.ConstraintsOpt {
	return llb.Platform(platform.From(sb))
}

// FrontendPlatform is the value of the frontend's [FrontendPlatformKey]
// option for the cell: "linux/arm64", "linux/amd64/v3".
func FrontendPlatform(sb platform.Valuer) string {
	return platforms.Format(platform.From(sb))
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
	return missingPlatform(have, p)
}

func missingPlatform(have []ocispec.Platform, p ocispec.Platform) error {
	if ListsPlatform(have, p) {
		return nil
	}
	names := make([]string, len(have))
	for i, h := range have {
		names[i] = platforms.Format(h)
	}
	msg := fmt.Sprintf("BuildKit cannot run %s: its workers list %s", platforms.Format(p), strings.Join(names, ", "))
	if how, err := platform.Runnable(p); err != nil {
		msg += "; " + err.Error()
	} else {
		// The machine can, so buildkitd probed before the emulator was
		// there: only a new buildkitd sees it.
		msg += fmt.Sprintf("; this machine runs it (%s), but buildkitd did not find that when it probed: restart buildkitd", how)
	}
	return errors.New(msg)
}

// RequireWorkerPlatform skips t unless BuildKit's workers list the cell's
// platform, with a reason naming the platform and what is missing; it
// fails t when the workers cannot be listed. Tests that execute code of the
// cell's platform (RUN steps, llb.Run) call it; tests that only select or
// inspect images of that platform need not.
func RequireWorkerPlatform(t testing.TB, sb platform.Valuer, c WorkerLister) {
	t.Helper()
	ctx := context.Background()
	if cs, ok := sb.(interface{ Context() context.Context }); ok {
		ctx = cs.Context()
	}
	have, err := WorkerPlatforms(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := missingPlatform(have, platform.From(sb)); err != nil {
		t.Skip(err.Error())
	}
}
