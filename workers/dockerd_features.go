package workers

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/matrixbox/matrixbox/internal/daemons"
)

// dockerd20Features are what dockerd 20.10 (Debian 12's docker.io, with
// BuildKit v0.8 inside) has of the Feature* set, as buildkittest's
// TestFeatures finds: the host network (its builder allows the
// entitlement by default). It lacks oci-layout contexts, source policies,
// architecture variants, every exporter but local and tar (and its own
// "moby"), so multi-platform exports too, cache export and import, merge
// and diff, Info and SOURCE_DATE_EPOCH. It runs as root.
var dockerd20Features = []string{FeatureNetworkHost, FeatureRootful}

// dockerdFeatures are what a dockerd of BuildKit's era (23 and later, not
// using the containerd image store) adds, as BuildKit's own harness
// declares it for its dockerd worker.
var dockerdFeatures = append([]string{FeatureSourcePolicy, FeaturePlatformVariants, FeatureMergeDiff, FeatureInfo,
	FeatureSourceDateEpoch}, dockerd20Features...)

// features are the features of the worker's dockerd: by its release's
// major version, or, for a dockerd given by WithBinary, by what its
// --version says (taken for 20.10, the oldest this worker runs, when it
// cannot be read).
func (w *dockerdWorker) features() []string {
	major := 0
	if w.opts.binary == "" {
		ver := strings.TrimPrefix(w.versions.release(daemons.Moby).Version, "v")
		major, _ = strconv.Atoi(strings.SplitN(ver, ".", 2)[0])
	} else if bin, err := lookBinary(w.opts.binary); err == nil {
		out, _ := exec.Command(bin, "--version").Output()
		if m := dockerdVersion.FindSubmatch(out); m != nil {
			major, _ = strconv.Atoi(string(m[1]))
		}
	}
	if major >= 23 {
		return w.opts.declared(dockerdFeatures)
	}
	return w.opts.declared(dockerd20Features)
}

// dockerdVersion matches `dockerd --version`: "Docker version 20.10.24+dfsg1, build 5d6db84".
var dockerdVersion = regexp.MustCompile(`version v?(\d+)\.`)
