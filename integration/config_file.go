package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// ConfigFileName is the name of the per-repo config file Run looks for.
const ConfigFileName = "matrixbox.yaml"

// EnvConfig names the config file explicitly; "none" disables the search.
const EnvConfig = "MATRIXBOX_CONFIG"

// maxRetries bounds the retries of a quarantined case.
const maxRetries = 10

// FileConfig is the content of a matrixbox.yaml. Every field is optional;
// see docs/config.md for the schema.
type FileConfig struct {
	// Path is the file the config was read from.
	Path string
	// Workers keeps and orders the workers of a Run by name.
	Workers []string
	// Axes gives the values of axes by axis name, decoded by the axis's
	// decoder (RegisterAxisDecoder) or kept as plain strings.
	Axes []FileAxis
	// Select is a selection expression with the syntax of MATRIXBOX_SELECT.
	Select string
	// Exclude lists selection expressions of cells that never run.
	Exclude []string
	// Quarantine lists the cases whose failures do not fail the run.
	Quarantine []Quarantine
	// Shards is the number of CI shards; 0 when not set.
	Shards int
}

// FileAxis is one axis of a config file, values in file order.
type FileAxis struct {
	Name   string
	Values []matrix.Value
}

// Quarantine is one quarantined set of cases: those whose test matches Test
// (a glob on the test's name, e.g. "TestEcho", or on its full path under the
// Run, e.g. "TestSuite/TestEcho") and whose cell matches Cells.
type Quarantine struct {
	Test    string
	Cells   matrix.Selector
	URL     string
	Reason  string
	Retries int
	// Line is where the entry starts in the config file.
	Line int
}

// Matches reports whether the case of test (its name), under parent (the
// name of the test that called Run), in cell c is quarantined by q.
func (q Quarantine) Matches(parent, test string, c matrix.Cell) bool {
	if q.Test != "" && !matrix.Glob(q.Test, test) && !matrix.Glob(q.Test, parent+"/"+test) {
		return false
	}
	return q.Cells.Match(c)
}

var (
	decodersMu sync.Mutex
	decoders   = map[string]func(string) (matrix.Value, error){}
)

// RegisterAxisDecoder makes config files decode the values of axis with
// decode, so that a config file can name typed values (a platform, a distro)
// by a string. Values of axes with no decoder are plain strings.
func RegisterAxisDecoder(axis string, decode func(string) (matrix.Value, error)) {
	decodersMu.Lock()
	defer decodersMu.Unlock()
	decoders[axis] = decode
}

func decodeAxisValue(axis, s string) (matrix.Value, error) {
	decodersMu.Lock()
	d := decoders[axis]
	decodersMu.Unlock()
	if d == nil {
		return matrix.Value{Name: s, V: s}, nil
	}
	return d(s)
}

// FindConfig returns the config file for a Run started in dir: the file
// named by MATRIXBOX_CONFIG, else the nearest matrixbox.yaml from dir up to
// the module root (the first directory holding go.mod). It returns "" when
// there is none.
func FindConfig(dir string) (string, error) {
	if p := os.Getenv(EnvConfig); p != "" {
		if p == "none" {
			return "", nil
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w", EnvConfig, err)
		}
		return p, nil
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, ConfigFileName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return "", nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", nil
		}
		dir = up
	}
}

// LoadConfig reads and checks a config file.
func LoadConfig(path string) (*FileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig parses the content of a config file; name is used in errors,
// which read "name:line: key: problem".
func ParseConfig(name string, data []byte) (*FileConfig, error) {
	fc := &FileConfig{Path: name}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fc, nil // an empty file is an empty config
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d: a second YAML document; the config is one document", name, extra.Line)
	}
	p := parser{name: name}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return fc, nil
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return fc, nil
	}
	if err := p.mapping(root, "top level", func(key string, k, v *yaml.Node) error {
		switch key {
		case "workers":
			ws, nodes, err := p.strings(v, key)
			if err != nil {
				return err
			}
			seen := map[string]bool{}
			for i, w := range ws {
				if w == "" || strings.ContainsAny(w, "/= \t") {
					return p.errf(nodes[i], key, "worker name %q is not a name", w)
				}
				if seen[w] {
					return p.errf(nodes[i], key, "worker %q is listed twice", w)
				}
				seen[w] = true
			}
			fc.Workers = ws
		case "axes":
			return p.mapping(v, key, func(axis string, ak, av *yaml.Node) error {
				where := "axes." + axis
				if axis == WorkerAxis {
					return p.errf(ak, where, "the worker axis is set by the workers key")
				}
				vals, nodes, err := p.strings(av, where)
				if err != nil {
					return err
				}
				if len(vals) == 0 {
					return p.errf(av, where, "no values")
				}
				fa := FileAxis{Name: axis}
				for i, s := range vals {
					mv, err := decodeAxisValue(axis, s)
					if err != nil {
						return p.errf(nodes[i], where, "value %q does not decode: %v", s, err)
					}
					fa.Values = append(fa.Values, mv)
				}
				if err := (matrix.Axis{Name: fa.Name, Values: fa.Values}).Validate(); err != nil {
					return p.errf(ak, where, "%v", err)
				}
				fc.Axes = append(fc.Axes, fa)
				return nil
			})
		case "select":
			s, err := p.scalar(v, key)
			if err != nil {
				return err
			}
			if _, err := matrix.ParseSelector(s); err != nil {
				return p.errf(v, key, "%v", err)
			}
			fc.Select = s
		case "exclude":
			ex, nodes, err := p.strings(v, key)
			if err != nil {
				return err
			}
			for i, e := range ex {
				sel, err := matrix.ParseSelector(e)
				if err != nil {
					return p.errf(nodes[i], key, "%v", err)
				}
				if sel.Empty() {
					return p.errf(nodes[i], key, "an empty exclusion would drop every cell")
				}
			}
			fc.Exclude = ex
		case "quarantine":
			if v.Kind != yaml.SequenceNode {
				return p.errf(v, key, "want a list of entries with test/cells, url and reason")
			}
			for i, e := range v.Content {
				q, err := p.quarantine(e, fmt.Sprintf("quarantine[%d]", i))
				if err != nil {
					return err
				}
				fc.Quarantine = append(fc.Quarantine, q)
			}
		case "shards":
			n, err := p.int(v, key)
			if err != nil {
				return err
			}
			if n < 1 || n > maxJobs {
				return p.errf(v, key, "%d shards: want 1 to %d (GitHub Actions runs at most %d jobs per matrix)", n, maxJobs, maxJobs)
			}
			fc.Shards = n
		default:
			return p.errf(k, key, "unknown key (known: workers, axes, select, exclude, quarantine, shards)")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return fc, nil
}

// maxJobs is GitHub Actions' limit of jobs per matrix.
const maxJobs = 256

type parser struct{ name string }

func (p parser) errf(n *yaml.Node, key, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s: %s", p.name, n.Line, key, fmt.Sprintf(format, args...))
}

// mapping calls f for each key of n in file order; a key given twice is an
// error.
func (p parser) mapping(n *yaml.Node, where string, f func(key string, k, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n, where, "want a mapping of keys to values, got %s", kindName(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return p.errf(k, where, "a key must be a plain string")
		}
		if seen[k.Value] {
			return p.errf(k, where+"."+k.Value, "key given twice")
		}
		seen[k.Value] = true
		if err := f(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

func (p parser) scalar(n *yaml.Node, key string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", p.errf(n, key, "want a string, got %s", kindName(n))
	}
	return n.Value, nil
}

func (p parser) int(n *yaml.Node, key string) (int, error) {
	var v int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		return 0, p.errf(n, key, "want a whole number, got %s %q", kindName(n), n.Value)
	}
	return v, nil
}

// strings accepts a list of strings, or one string as a list of one.
// The nodes are returned alongside, for errors about one element.
func (p parser) strings(n *yaml.Node, key string) ([]string, []*yaml.Node, error) {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []string{n.Value}, []*yaml.Node{n}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, nil, p.errf(n, key, "want a list of strings, got %s", kindName(n))
	}
	out := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		s, err := p.scalar(e, key)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
	}
	return out, n.Content, nil
}

func (p parser) quarantine(n *yaml.Node, where string) (Quarantine, error) {
	q := Quarantine{Line: n.Line}
	var cells string
	err := p.mapping(n, where, func(key string, k, v *yaml.Node) error {
		full := where + "." + key
		var err error
		switch key {
		case "test":
			q.Test, err = p.scalar(v, full)
			if err == nil && (q.Test == "" || strings.ContainsAny(q.Test, " \t")) {
				err = p.errf(v, full, "%q is not a test name or glob", q.Test)
			}
		case "cells":
			if cells, err = p.scalar(v, full); err == nil {
				if q.Cells, err = matrix.ParseSelector(cells); err != nil {
					err = p.errf(v, full, "%v", err)
				}
			}
		case "url":
			if q.URL, err = p.scalar(v, full); err == nil {
				u, perr := url.Parse(q.URL)
				if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					err = p.errf(v, full, "%q is not an http(s) URL of the tracking issue", q.URL)
				}
			}
		case "reason":
			if q.Reason, err = p.scalar(v, full); err == nil && strings.TrimSpace(q.Reason) == "" {
				err = p.errf(v, full, "empty reason")
			}
		case "retries":
			if q.Retries, err = p.int(v, full); err == nil && (q.Retries < 0 || q.Retries > maxRetries) {
				err = p.errf(v, full, "%d: want 0 to %d", q.Retries, maxRetries)
			}
		default:
			err = p.errf(k, full, "unknown key (known: test, cells, url, reason, retries)")
		}
		return err
	})
	if err != nil {
		return q, err
	}
	switch {
	case q.Test == "" && q.Cells.Empty():
		return q, p.errf(n, where, "give test or cells (or both): an entry matching everything would hide every failure")
	case q.URL == "":
		return q, p.errf(n, where, "url is required: a quarantine without a tracking issue is never lifted")
	case q.Reason == "":
		return q, p.errf(n, where, "reason is required")
	}
	return q, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return "a scalar"
	}
	return "a document"
}

var (
	configCacheMu sync.Mutex
	configCache   = map[string]*onceValue[*FileConfig]{}
)

// repoConfig finds and loads the config for this process once per path.
func repoConfig() (*FileConfig, error) {
	path, err := FindConfig(".")
	if err != nil || path == "" {
		return nil, err
	}
	configCacheMu.Lock()
	o := configCache[path]
	if o == nil {
		o = &onceValue[*FileConfig]{}
		configCache[path] = o
	}
	configCacheMu.Unlock()
	return o.get(func() (*FileConfig, error) { return LoadConfig(path) })
}

// applyConfig applies the repo config to a Run: environment over config
// over code. It returns the workers to use and notes for the test log.
func applyConfig(fc *FileConfig, st *settings, cfg *config, workers []sandbox.Worker) ([]sandbox.Worker, []string, error) {
	if fc == nil {
		return workers, nil, nil
	}
	var notes []string
	if len(fc.Workers) > 0 {
		if len(workers) == 0 {
			workers = defaultWorkers()
		}
		byName := map[string]sandbox.Worker{}
		var names []string
		for _, w := range workers {
			if w != nil {
				byName[w.Name()] = w
				names = append(names, w.Name())
			}
		}
		var kept []sandbox.Worker
		for _, n := range fc.Workers {
			w, ok := byName[n]
			if !ok {
				sort.Strings(names)
				return nil, nil, fmt.Errorf("%s: workers: %q is not a worker of this Run (it has %s)", fc.Path, n, strings.Join(names, ", "))
			}
			kept = append(kept, w)
		}
		workers = kept
	}
	for _, fa := range fc.Axes {
		found := false
		for i, a := range cfg.axes {
			if a.Name != fa.Name {
				continue
			}
			found = true
			code := map[string]matrix.Value{}
			for _, v := range a.Values {
				code[v.Name] = v
			}
			na := matrix.Axis{Name: a.Name}
			for _, v := range fa.Values {
				if cv, ok := code[v.Name]; ok {
					v = cv // a value the code declares keeps the code's typed value
				}
				na.Values = append(na.Values, v)
			}
			cfg.axes[i] = na
		}
		if !found {
			notes = append(notes, fmt.Sprintf("%s: axis %q is not an axis of this Run; ignored", fc.Path, fa.Name))
		}
	}
	if st.selector.Empty() && fc.Select != "" {
		sel, err := matrix.ParseSelector(fc.Select)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: select: %w", fc.Path, err)
		}
		st.selector = sel
	}
	cfg.excludes = append(cfg.excludes, fc.Exclude...)
	st.ext.quarantine = fc.Quarantine
	return workers, notes, nil
}

func defaultWorkers() []sandbox.Worker {
	if ws := registeredWorkers(); len(ws) > 0 {
		return ws
	}
	return []sandbox.Worker{sandbox.HostWorker()}
}

// applyRepoConfig loads the repo's config file, if any, and applies it.
func applyRepoConfig(t *testing.T, st *settings, cfg *config, workers []sandbox.Worker) ([]sandbox.Worker, error) {
	t.Helper()
	fc, err := repoConfig()
	if err != nil {
		return nil, err
	}
	ws, notes, err := applyConfig(fc, st, cfg, workers)
	for _, n := range notes {
		t.Log("matrixbox: " + n)
	}
	return ws, err
}
