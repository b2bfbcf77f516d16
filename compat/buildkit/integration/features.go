package integration

import (
	"fmt"
	"strings"
	"testing"
)

// CheckFeatureCompat skips the test when the sandbox's worker lacks one of
// the features named in reason, each of which must be a key of features.
func CheckFeatureCompat(t *testing.T, sb Sandbox, features map[string]struct{}, reason ...string) {
	t.Helper()
	if err := HasFeatureCompat(t, sb, features, reason...); err != nil {
		t.Skip(err.Error())
	}
}

// HasFeatureCompat returns an error naming the worker and the features of
// reason it lacks, nil when it has them all. A reason that is not a key of
// features, or no reason at all, fails the test.
func HasFeatureCompat(t *testing.T, sb Sandbox, features map[string]struct{}, reason ...string) error {
	t.Helper()
	if len(reason) == 0 {
		t.Fatal("HasFeatureCompat: no feature given")
	}
	var missing []string
	for _, r := range reason {
		if _, ok := features[r]; !ok {
			sb.ClearLogs()
			t.Fatalf("HasFeatureCompat: unknown feature %q (want one of the Feature* constants of package workers)", r)
		}
		if !sb.Supports(r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s worker can not currently run this test due to missing features (%s)", sb.Name(), strings.Join(missing, ", "))
	}
	return nil
}

// ConfigUpdater is a matrix value that changes the buildkitd.toml of its
// cells: UpdateConfigFile gets the TOML so far and returns it changed, and a
// func that undoes what it made (nil when nothing), called after the
// daemon has stopped.
type ConfigUpdater interface {
	UpdateConfigFile(string) (string, func() error)
}
