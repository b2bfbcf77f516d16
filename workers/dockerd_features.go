package workers

import (
	"os/exec"
	"regexp"
	"slices"
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

// dockerdFeatures are what a dockerd of BuildKit's era (moby 23 and
// later) has with the classic image store, as BuildKit v0.34.2's harness
// declares its "dockerd" worker: of the features it names, the inline
// cache, Info and SOURCE_DATE_EPOCH (it lacks oci-layout contexts, the
// image and OCI exporters, cache export and import and their local and
// registry backends, multi-platform images, merge and diff); and of
// matrixbox's own, source policies, architecture variants and the host
// network. It runs as root.
var dockerdFeatures = []string{FeatureSourcePolicy, FeaturePlatformVariants, FeatureNetworkHost,
	FeatureCacheBackendInline, FeatureInfo, FeatureSourceDateEpoch, FeatureRootful}

// dockerdContainerdFeatures are what it has with the containerd image
// store, as BuildKit v0.34.2's harness declares its "dockerd-containerd"
// worker, which lacks only the security mode, CNI networks, content checks
// and CDI (none a Feature* here): all a buildkitd has, and the host
// network.
var dockerdContainerdFeatures = append(slices.Clone(buildkitdFeatures), FeatureNetworkHost)

// dockerdMajor is the major version of the worker's dockerd: its
// release's, or for a dockerd given by WithBinary, what its --version
// says (0 when it cannot be read).
func (w *dockerdWorker) dockerdMajor() int {
	if w.opts.binary == "" {
		return majorOf(w.versions.release(daemons.Moby).Version)
	}
	bin, err := lookBinary(w.opts.binary)
	if err != nil {
		return 0
	}
	out, _ := exec.Command(bin, "--version").Output()
	if m := dockerdVersion.FindSubmatch(out); m != nil {
		major, _ := strconv.Atoi(string(m[1]))
		return major
	}
	return 0
}

// majorOf is the major version of a moby release, "v29.8.1": 29.
func majorOf(version string) int {
	major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0])
	return major
}

// features are the features of the worker's dockerd, by its major version
// (a dockerd whose version cannot be read is taken for 20.10, the oldest
// this worker runs) and image store.
func (w *dockerdWorker) features() []string {
	switch {
	case w.major >= minContainerdStore && w.containerdStore:
		return w.opts.declared(dockerdContainerdFeatures)
	case w.major >= historyMoby:
		return w.opts.declared(dockerdFeatures)
	}
	return w.opts.declared(dockerd20Features)
}

// dockerdVersion matches `dockerd --version`: "Docker version 20.10.24+dfsg1, build 5d6db84".
var dockerdVersion = regexp.MustCompile(`version v?(\d+)\.`)
