package workers

import (
	"fmt"

	"github.com/pelletier/go-toml/v2"

	"github.com/matrixbox/matrixbox/sandbox"
)

// BuildkitdConfigFunc returns TOML to merge into the buildkitd.toml of one
// backend, given that backend's Config (its cell and private directory), and
// a func that undoes what it made (nil when nothing), called after the
// backend's buildkitd has stopped.
type BuildkitdConfigFunc func(cfg *sandbox.Config) (fragment string, release func() error, err error)

// WithBuildkitdConfig changes the buildkitd.toml of every backend of a
// buildkitd worker ([BuildkitdOCI], [BuildkitdContainerd]): the fragment's
// tables are merged into the worker's key by key, and where both set a key
// the fragment's value wins. Daemon configuration that depends on a matrix
// value reads it from cfg.Cell:
//
//	workers.BuildkitdOCI(workers.WithBuildkitdConfig(func(cfg *sandbox.Config) (string, func() error, error) {
//		if cfg.Cell.Value("entitlements") == "insecure" {
//			return `insecure-entitlements = ["security.insecure"]`, nil, nil
//		}
//		return "", nil, nil
//	}))
//
// Other workers do not run a buildkitd of theirs: given to one, it is an
// error (see [Option]).
func WithBuildkitdConfig(fn BuildkitdConfigFunc) Option {
	return option("WithBuildkitdConfig", func(o *options) { o.buildkitdConfig = append(o.buildkitdConfig, fn) })
}

// applyBuildkitdConfig merges the WithBuildkitdConfig fragments into conf;
// each release is added to cl, to run after buildkitd has stopped.
func (o options) applyBuildkitdConfig(cfg *sandbox.Config, conf []byte, cl *sandbox.Cleanups) ([]byte, error) {
	for i, fn := range o.buildkitdConfig {
		frag, release, err := fn(cfg)
		if release != nil {
			cl.Add(fmt.Sprintf("release buildkitd config %d", i+1), release)
		}
		if err != nil {
			return nil, fmt.Errorf("WithBuildkitdConfig %d: %w", i+1, err)
		}
		if conf, err = mergeTOML(conf, frag); err != nil {
			return nil, fmt.Errorf("WithBuildkitdConfig %d: %w\n----- fragment -----\n%s", i+1, err, frag)
		}
	}
	return conf, nil
}

// mergeTOML returns base with fragment's keys merged in, table by table;
// the fragment wins where both set a key.
func mergeTOML(base []byte, fragment string) ([]byte, error) {
	var dst, src map[string]any
	if err := toml.Unmarshal(base, &dst); err != nil {
		return nil, fmt.Errorf("read buildkitd.toml: %w", err)
	}
	if err := toml.Unmarshal([]byte(fragment), &src); err != nil {
		return nil, fmt.Errorf("read fragment: %w", err)
	}
	if len(src) == 0 {
		return base, nil
	}
	if dst == nil {
		dst = map[string]any{}
	}
	mergeTables(dst, src)
	return toml.Marshal(dst)
}

func mergeTables(dst, src map[string]any) {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				mergeTables(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
}
