package workers

import (
	"testing"

	"github.com/matrixbox/matrixbox/compat/buildkit/integration"
)

// The features a test may require with CheckFeatureCompat, named as in
// BuildKit v0.28.0.
const (
	FeatureCacheExport          = "cache_export"
	FeatureCacheImport          = "cache_import"
	FeatureCacheBackendAzblob   = "cache_backend_azblob"
	FeatureCacheBackendGha      = "cache_backend_gha"
	FeatureCacheBackendInline   = "cache_backend_inline"
	FeatureCacheBackendLocal    = "cache_backend_local"
	FeatureCacheBackendRegistry = "cache_backend_registry"
	FeatureCacheBackendS3       = "cache_backend_s3"
	FeatureDirectPush           = "direct_push"
	FeatureFrontendOutline      = "frontend_outline"
	FeatureFrontendTargets      = "frontend_targets"
	FeatureImageExporter        = "image_exporter"
	FeatureInfo                 = "info"
	FeatureMergeDiff            = "merge_diff"
	FeatureMultiCacheExport     = "multi_cache_export"
	FeatureMultiPlatform        = "multi_platform"
	FeatureOCIExporter          = "oci_exporter"
	FeatureOCILayout            = "oci_layout"
	FeatureProvenance           = "provenance"
	FeatureSBOM                 = "sbom"
	FeatureSecurityMode         = "security_mode"
	FeatureSourceDateEpoch      = "source_date_epoch"
	FeatureCNINetwork           = "cni_network"
	FeatureContentCheck         = "content_check"
	FeatureCDI                  = "cdi"
)

// allFeatures lists every feature, in the order above.
var allFeatures = []string{
	FeatureCacheExport, FeatureCacheImport, FeatureCacheBackendAzblob,
	FeatureCacheBackendGha, FeatureCacheBackendInline, FeatureCacheBackendLocal,
	FeatureCacheBackendRegistry, FeatureCacheBackendS3, FeatureDirectPush,
	FeatureFrontendOutline, FeatureFrontendTargets, FeatureImageExporter,
	FeatureInfo, FeatureMergeDiff, FeatureMultiCacheExport, FeatureMultiPlatform,
	FeatureOCIExporter, FeatureOCILayout, FeatureProvenance, FeatureSBOM,
	FeatureSecurityMode, FeatureSourceDateEpoch, FeatureCNINetwork,
	FeatureContentCheck, FeatureCDI,
}

var features = func() map[string]struct{} {
	m := make(map[string]struct{}, len(allFeatures))
	for _, f := range allFeatures {
		m[f] = struct{}{}
	}
	return m
}()

// CheckFeatureCompat skips the test, naming the worker and what it lacks,
// unless the sandbox's worker has every feature in reason.
func CheckFeatureCompat(t *testing.T, sb integration.Sandbox, reason ...string) {
	t.Helper()
	integration.CheckFeatureCompat(t, sb, features, reason...)
}

// HasFeatureCompat returns an error naming the worker and the features of
// reason it lacks; nil when it has them all.
func HasFeatureCompat(t *testing.T, sb integration.Sandbox, reason ...string) error {
	t.Helper()
	return integration.HasFeatureCompat(t, sb, features, reason...)
}
