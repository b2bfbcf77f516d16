package workers

import (
	"os/exec"
	"regexp"
	"strconv"
)

// dockerd20Features are what dockerd 20.10 (Debian 12's docker.io, with
// BuildKit v0.8 inside) has of the Feature* set, as buildkittest's
// TestFeatures finds: the host network (its builder allows the
// entitlement by default). It lacks oci-layout contexts, source policies,
// architecture variants, every exporter but local and tar (and its own
// "moby"), so multi-platform exports too, cache export and import, merge
// and diff, Info and SOURCE_DATE_EPOCH.
var dockerd20Features = []string{FeatureNetworkHost}

// dockerdFeatures are what a dockerd of BuildKit's era (23 and later, not
// using the containerd image store) adds, as BuildKit's own harness
// declares it for its dockerd worker (not checked here: Debian 12 ships
// 20.10).
var dockerdFeatures = append([]string{FeatureSourcePolicy, FeaturePlatformVariants, FeatureMergeDiff, FeatureInfo,
	FeatureSourceDateEpoch}, dockerd20Features...)

// dockerdVersion matches `dockerd --version`: "Docker version 20.10.24+dfsg1, build 5d6db84".
var dockerdVersion = regexp.MustCompile(`version v?(\d+)\.`)

// features are the features of the worker's dockerd, told by its major
// version without starting it; a dockerd whose version cannot be read is
// taken for 20.10, the oldest this worker runs.
func (w *dockerdWorker) features() []string {
	w.featuresOnce.Do(func() {
		builtin := dockerd20Features
		if bin, err := lookBinary(w.binary()); err == nil {
			out, _ := exec.Command(bin, "--version").Output()
			if m := dockerdVersion.FindSubmatch(out); m != nil {
				if major, _ := strconv.Atoi(string(m[1])); major >= 23 {
					builtin = dockerdFeatures
				}
			}
		}
		w.featureList = w.opts.declared(builtin)
	})
	return w.featureList
}
