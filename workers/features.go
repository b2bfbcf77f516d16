package workers

import (
	"slices"
)

// Features of the BuildKit workers, for integration.Requires and
// sandbox.Supports. The names are BuildKit's own (its harness's Feature*
// constants) where it has one. Each BuildKit worker declares what it has
// before it starts anything, so a case that requires what its worker lacks
// is skipped without starting a daemon; [WithFeatures] adds to what a
// worker declares and [WithoutFeatures] takes away.
const (
	// FeatureOCILayout: oci-layout:// sources and named contexts read from
	// the client's SolveOpt.OCIStores.
	FeatureOCILayout = "oci_layout"
	// FeatureSourcePolicy: SolveOpt.SourcePolicy (rules that convert or
	// deny sources).
	FeatureSourcePolicy = "source_policy"
	// FeaturePlatformVariants: builds for an architecture variant
	// (linux/amd64/v3) pick that variant's image, or the nearest older
	// one, and pass TARGETVARIANT.
	FeaturePlatformVariants = "platform_variants"
	// FeatureNetworkHost: RUN steps on the host's network (the
	// network.host entitlement is allowed).
	FeatureNetworkHost = "network_host"
	// FeatureImageExporter: the "image" exporter (into the daemon's image
	// store, or pushed).
	FeatureImageExporter = "image_exporter"
	// FeatureOCIExporter: the "oci" and "docker" tarball exporters.
	FeatureOCIExporter = "oci_exporter"
	// FeatureCacheExport and FeatureCacheImport: SolveOpt.CacheExports
	// and CacheImports.
	FeatureCacheExport = "cache_export"
	FeatureCacheImport = "cache_import"
	// FeatureCacheBackendLocal, FeatureCacheBackendRegistry and
	// FeatureCacheBackendInline: the "local", "registry" and "inline"
	// cache backends.
	FeatureCacheBackendLocal    = "cache_backend_local"
	FeatureCacheBackendRegistry = "cache_backend_registry"
	FeatureCacheBackendInline   = "cache_backend_inline"
	// FeatureMultiPlatform: one solve for several platforms exported as
	// one multi-platform image (by the image or OCI exporter).
	FeatureMultiPlatform = "multi_platform"
	// FeatureMergeDiff: LLB's merge and diff operations.
	FeatureMergeDiff = "merge_diff"
	// FeatureInfo: the daemon answers client.Info.
	FeatureInfo = "info"
	// FeatureSourceDateEpoch: SOURCE_DATE_EPOCH is honoured.
	FeatureSourceDateEpoch = "source_date_epoch"
	// FeatureRootful: the daemon runs as root on the host, not in a user
	// namespace, so RUN steps are root of the host's user namespace:
	// what BuildKit's tests that check sb.Rootless(), or whose name says
	// NoRootless, need (devices, CDI, cgroup parents, the host's root
	// behind the insecure security mode). The rootless workers
	// ([WithRootless]) lack it.
	FeatureRootful = "rootful"
)

// buildkitdFeatures are what the buildkitd workers have: all of the
// above but the host network, whose entitlement buildkitd does not allow
// unless configured to (and, rootless, FeatureRootful).
var buildkitdFeatures = []string{
	FeatureOCILayout, FeatureSourcePolicy, FeaturePlatformVariants, FeatureImageExporter, FeatureOCIExporter,
	FeatureCacheExport, FeatureCacheImport, FeatureCacheBackendLocal, FeatureCacheBackendRegistry,
	FeatureCacheBackendInline, FeatureMultiPlatform, FeatureMergeDiff, FeatureInfo, FeatureSourceDateEpoch,
	FeatureRootful,
}

// builtinFeatures are the features the workers of a constructor declare
// by themselves.
var builtinFeatures = map[string][]string{
	ctorBuildkitdOCI:        buildkitdFeatures,
	ctorBuildkitdContainerd: buildkitdFeatures,
}

// WithoutFeatures takes features away from what the worker declares, e.g.
// for a buildkitd given by [WithBinary] that predates one.
func WithoutFeatures(features ...string) Option {
	return option("WithoutFeatures", func(o *options) { o.without = append(o.without, features...) })
}

// declared is the worker's feature list: builtin (what its kind has),
// plus WithFeatures, minus WithoutFeatures.
func (o options) declared(builtin []string) []string {
	out := slices.Clone(builtin)
	for _, f := range o.features {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return slices.DeleteFunc(out, func(f string) bool { return slices.Contains(o.without, f) })
}
