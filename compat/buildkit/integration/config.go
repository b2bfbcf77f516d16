package integration

import (
	"errors"
	"fmt"

	"github.com/matrixbox/matrixbox/sandbox"
)

// BuildkitdConfig is the workers.BuildkitdConfigFunc of the workers this
// module registers: it runs the ConfigUpdater values of the backend's cell,
// in the order of the cell's axes, over an empty file, as BuildKit's
// harness does, and returns the TOML they made. An updater that panics is
// an error naming it, not a crash of the test binary.
func BuildkitdConfig(cfg *sandbox.Config) (fragment string, release func() error, err error) {
	var releases []func() error
	release = func() error {
		var errs []error
		for i := len(releases) - 1; i >= 0; i-- {
			errs = append(errs, releases[i]())
		}
		return errors.Join(errs...)
	}
	for _, axis := range cfg.Cell.Axes() {
		u, ok := cfg.Cell.Value(axis).(ConfigUpdater)
		if !ok {
			continue
		}
		var rel func() error
		fragment, rel, err = update(u, fragment)
		if rel != nil {
			releases = append(releases, rel)
		}
		if err != nil {
			return "", release, fmt.Errorf("matrix value %s=%s: %w", axis, valueName(cfg, axis), err)
		}
	}
	return fragment, release, nil
}

func update(u ConfigUpdater, in string) (out string, release func() error, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%T.UpdateConfigFile panicked: %v", u, v)
		}
	}()
	out, release = u.UpdateConfigFile(in)
	return out, release, nil
}

func valueName(cfg *sandbox.Config, axis string) string {
	v, _ := cfg.Cell.Lookup(axis)
	return v.Name
}
