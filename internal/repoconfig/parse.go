package repoconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/matrixbox/matrixbox/internal/remote"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/report"
)

// File is the content of a matrixbox.yaml. Every field is optional;
// the README's "Configuration" section describes each key.
type File struct {
	// Path is the file the config was read from.
	Path string
	// Workers keeps and orders the workers of a Run by name; names a Run
	// does not have are ignored.
	Workers []string
	// Axes gives the values of axes by axis name, as written; a Run decodes
	// those of the axes it declares.
	Axes []Axis
	// Select is a selection expression with the syntax of MATRIXBOX_SELECT.
	Select string
	// Exclude lists selection expressions of cells that never run.
	Exclude []string
	// Quarantine lists the cases whose failures do not fail the run.
	Quarantine []Quarantine
	// Shards is the number of CI shards; 0 when not set.
	Shards int
	// Strict turns strict mode on (integration.EnvStrict) unless MATRIXBOX_STRICT
	// says otherwise.
	Strict bool
	// Remote lists the remote workers the file names (see the remote
	// key), in file order.
	Remote []remote.Spec

	lines       map[string]int // the line of each top-level key's value
	workerLines []int          // the line of each of Workers
}

// Line returns the line of key's value, for errors found after parsing.
func (fc *File) Line(key string) int { return fc.lines[key] }

// WorkerLine is the line of the file's worker name n.
func (fc *File) WorkerLine(n string) int {
	for i, w := range fc.Workers {
		if w == n && i < len(fc.workerLines) {
			return fc.workerLines[i]
		}
	}
	return fc.Line("workers")
}

// Axis is one axis of a config file, its values as written, in file
// order. They are decoded only by a Run that declares the axis, so that
// one file can serve suites with other axes.
type Axis struct {
	Name   string
	Values []string

	file  string
	lines []int // of each value
}

// Where places the axis's value i in the file for an error:
// "matrixbox.yaml:3: axes.cpus".
func (a Axis) Where(i int) string {
	line := 0
	if i < len(a.lines) {
		line = a.lines[i]
	}
	return fmt.Sprintf("%s:%d: axes.%s", a.file, line, a.Name)
}

// workerAxis is integration.WorkerAxis, the axis of the workers, which a
// file selects with its workers key.
const workerAxis = "worker"

// The top-level keys, in the order the errors list them.
var configKeys = []string{"workers", "axes", "select", "exclude", "quarantine", "shards", "strict", "remote"}

// Parse parses the content of a config file; name is used in errors,
// which read "name:line: key: problem".
func Parse(name string, data []byte) (*File, error) {
	fc := &File{Path: name, lines: map[string]int{}}
	root, err := configRoot(name, data)
	if err != nil || root == nil {
		return fc, err
	}
	p := parser{name: name}
	err = p.mapping(root, "top level", func(key string, k, v *yaml.Node) error {
		fc.lines[key] = v.Line
		switch key {
		case "workers":
			return p.workers(fc, v)
		case "axes":
			return p.mapping(v, key, func(axis string, ak, av *yaml.Node) error { return p.axis(fc, axis, ak, av) })
		case "select":
			return p.selection(fc, v)
		case "exclude":
			return p.exclude(fc, v)
		case "quarantine":
			return p.quarantines(fc, v)
		case "shards":
			return p.shards(fc, v)
		case "strict":
			return p.strict(fc, v)
		case "remote":
			return p.remote(fc, v)
		}
		return p.errf(k, key, "unknown key (known: %s)", strings.Join(configKeys, ", "))
	})
	if err != nil {
		return nil, err
	}
	return fc, nil
}

// configRoot returns the top node of the file's one YAML document, or nil
// for an empty file.
func configRoot(name string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty file is an empty config
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d: a second YAML document; the config is one document", name, extra.Line)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	return root, nil
}

type parser struct{ name string }

func (p parser) workers(fc *File, v *yaml.Node) error {
	ws, nodes, err := p.strings(v, "workers")
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, w := range ws {
		if w == "" || strings.ContainsAny(w, "/= \t") {
			return p.errf(nodes[i], "workers", "worker name %q is not a name", w)
		}
		if seen[w] {
			return p.errf(nodes[i], "workers", "worker %q is listed twice", w)
		}
		seen[w] = true
		fc.workerLines = append(fc.workerLines, nodes[i].Line)
	}
	fc.Workers = ws
	return nil
}

// axis reads one axis's values. They are not decoded here: a value of an
// axis that a Run does not declare is never decoded.
func (p parser) axis(fc *File, axis string, ak, av *yaml.Node) error {
	where := "axes." + axis
	if axis == workerAxis {
		return p.errf(ak, where, "the worker axis is set by the workers key")
	}
	vals, nodes, err := p.strings(av, where)
	if err != nil {
		return err
	}
	if len(vals) == 0 {
		return p.errf(av, where, "no values")
	}
	fa := Axis{Name: axis, Values: vals, file: p.name}
	for _, n := range nodes {
		fa.lines = append(fa.lines, n.Line)
	}
	fc.Axes = append(fc.Axes, fa)
	return nil
}

func (p parser) selection(fc *File, v *yaml.Node) error {
	s, err := p.scalar(v, "select")
	if err != nil {
		return err
	}
	if _, err := matrix.ParseSelector(s); err != nil {
		return p.errf(v, "select", "%v", err)
	}
	fc.Select = s
	return nil
}

func (p parser) exclude(fc *File, v *yaml.Node) error {
	ex, nodes, err := p.strings(v, "exclude")
	if err != nil {
		return err
	}
	for i, e := range ex {
		sel, err := matrix.ParseSelector(e)
		if err != nil {
			return p.errf(nodes[i], "exclude", "%v", err)
		}
		if sel.Empty() {
			return p.errf(nodes[i], "exclude", "an empty exclusion would drop every cell")
		}
	}
	fc.Exclude = ex
	return nil
}

func (p parser) shards(fc *File, v *yaml.Node) error {
	n, err := p.int(v, "shards")
	if err != nil {
		return err
	}
	if n < 1 || n > report.MaxShards {
		return p.errf(v, "shards", "%d shards: want 1 to %d (GitHub Actions runs at most %d jobs per matrix)", n, report.MaxShards, report.MaxShards)
	}
	fc.Shards = n
	return nil
}

func (p parser) strict(fc *File, v *yaml.Node) error {
	var b bool
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&b) != nil {
		return p.errf(v, "strict", "want true or false, got %s %q", kindName(v), v.Value)
	}
	fc.Strict = b
	return nil
}

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
