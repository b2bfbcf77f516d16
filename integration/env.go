package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/matrixbox/matrixbox/matrix"
)

// Environment variables read by Run.
const (
	envSelect   = "MATRIXBOX_SELECT"
	EnvShard    = "MATRIXBOX_SHARD"
	envParallel = "MATRIXBOX_PARALLEL"
	envLogs     = "MATRIXBOX_LOGS"
	envSkip     = "MATRIXBOX_SKIP_INTEGRATION"
	EnvReport   = "MATRIXBOX_REPORT"
	envWatchdog = "MATRIXBOX_WATCHDOG"
	// EnvStrict, when 1, makes what would test nothing fail instead: an
	// unavailable worker, a selection or shard that keeps no case, a Run
	// that runs no case. It wins over strict: in the config file.
	EnvStrict = "MATRIXBOX_STRICT"
)

type settings struct {
	selector   matrix.Selector
	shard      matrix.Shard
	shardFrom  string // where the shard came from, e.g. "GitLab CI (CI_NODE_INDEX=2, CI_NODE_TOTAL=4)"
	strict     bool
	strictSet  bool // EnvStrict was given: the config file's strict does not apply
	parallel   int
	logsAlways bool
	skip       bool
	report     string
	watchdog   time.Duration
	ext        extSettings // config file, shard plan, plan mode, quarantine
}

// readSettings reads the environment; a value that does not parse is an
// error naming the variable, never a silent default.
func readSettings() (settings, error) {
	var s settings
	var err error
	if s.selector, err = matrix.ParseSelector(os.Getenv(envSelect)); err != nil {
		return s, fmt.Errorf("%s: %w", envSelect, err)
	}
	if s.shard, s.shardFrom, err = readShard(); err != nil {
		return s, err
	}
	if v := strings.TrimSpace(os.Getenv(envParallel)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return s, fmt.Errorf("%s=%q: want a whole number ≥ 1", envParallel, v)
		}
		s.parallel = n
	}
	switch v := os.Getenv(envLogs); v {
	case "", "failed":
	case "always":
		s.logsAlways = true
	default:
		return s, fmt.Errorf("%s=%q: want \"always\" or \"failed\"", envLogs, v)
	}
	if s.skip, err = parseBool(envSkip, os.Getenv(envSkip)); err != nil {
		return s, err
	}
	if v := os.Getenv(EnvStrict); v != "" {
		if s.strict, err = parseBool(EnvStrict, v); err != nil {
			return s, err
		}
		s.strictSet = true
	}
	s.report = os.Getenv(EnvReport)
	s.watchdog = defaultWatchdog
	if v := strings.TrimSpace(os.Getenv(envWatchdog)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return s, fmt.Errorf("%s=%q: want a duration such as 10m, or 0 to disable", envWatchdog, v)
		}
		s.watchdog = d
	}
	if s.ext, err = readExtSettings(s.shard, s.shardFrom); err != nil {
		return s, err
	}
	return s, nil
}

func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no":
		return false, nil
	case "1", "true", "yes":
		return true, nil
	}
	return false, fmt.Errorf("%s=%q: want 1 or 0", name, v)
}
