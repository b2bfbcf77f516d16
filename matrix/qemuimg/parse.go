package qemuimg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Doc is one qemu-img output flattened into leaves, the form the comparator
// and the gates work on.
type Doc struct {
	// Command is "info", "map" or "snapshot".
	Command string
	// Output is "json" or "human".
	Output string
	Leaves []Leaf
}

// Leaf is one value and the path of keys (and "[i]" indexes) leading to it.
// An empty JSON object or array is a leaf with value "{}" or "[]".
type Leaf struct {
	Path  []string
	Value string
}

// Key is the path joined with '.', e.g. "format-specific.data.compat".
func (l Leaf) Key() string {
	var b strings.Builder
	for i, s := range l.Path {
		if i > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// Parse reads output by the name Record gives it: "<image>.info.json",
// "<image>.map.json", "<image>.info.txt", "<image>.map.txt" or
// "snapshot-list.txt".
func Parse(name string, b []byte) (Doc, error) {
	var d Doc
	var err error
	switch {
	case strings.HasSuffix(name, ".info.json"):
		d, err = ParseJSON("info", b)
	case strings.HasSuffix(name, ".map.json"):
		d, err = ParseJSON("map", b)
	case strings.HasSuffix(name, ".info.txt"):
		d, err = ParseInfoHuman(b)
	case strings.HasSuffix(name, ".map.txt"):
		d, err = ParseMapHuman(b)
	case strings.HasSuffix(name, "snapshot-list.txt"):
		d, err = ParseSnapshotList(b)
	default:
		return Doc{}, fmt.Errorf("qemu-img output %q: unknown kind (want *.info.json, *.map.json, *.info.txt, *.map.txt or snapshot-list.txt)", name)
	}
	if err != nil {
		return Doc{}, fmt.Errorf("qemu-img output %q: %w", name, err)
	}
	return d, nil
}

// ParseJSON flattens `qemu-img <command> --output=json`.
func ParseJSON(command string, b []byte) (Doc, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return Doc{}, fmt.Errorf("%s JSON: %w", command, err)
	}
	d := Doc{Command: command, Output: "json"}
	flatten(&d, nil, v)
	return d, nil
}

func flatten(d *Doc, path []string, v any) {
	add := func(val string) {
		d.Leaves = append(d.Leaves, Leaf{Path: append([]string(nil), path...), Value: val})
	}
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			add("{}")
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			flatten(d, append(path, k), x[k])
		}
	case []any:
		if len(x) == 0 {
			add("[]")
			return
		}
		for i, e := range x {
			flatten(d, append(path, "["+strconv.Itoa(i)+"]"), e)
		}
	case string:
		add(strconv.Quote(x))
	case nil:
		add("null")
	default:
		add(fmt.Sprint(x))
	}
}

// ParseInfoHuman reads `qemu-img info` text: "key: value" lines, sections
// opened by "key:" lines and nested by indentation ("Format specific
// information:", "Child node '/file':", "[0]:").
func ParseInfoHuman(b []byte) (Doc, error) {
	d := Doc{Command: "info", Output: "human"}
	var stack []infoLevel
	seen := map[string]int{}
	for n, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		text := strings.TrimSpace(line)
		key, val, ok := strings.Cut(text, ": ")
		if !ok {
			if !strings.HasSuffix(text, ":") {
				return Doc{}, fmt.Errorf("info text line %d: %q is neither \"key: value\" nor \"section:\"", n+1, line)
			}
			key, val = strings.TrimSuffix(text, ":"), ""
			if indent == 0 || !strings.HasSuffix(line, ": ") {
				// "key:" with nothing after opens a section; an
				// indented "format: " (trailing space) is an empty value.
				path := pathOf(stack, key)
				stack = append(stack, infoLevel{indent, uniq(seen, path)})
				continue
			}
		}
		path := pathOf(stack, key)
		d.Leaves = append(d.Leaves, Leaf{Path: splitKey(uniq(seen, path)), Value: strings.TrimSpace(val)})
	}
	if len(d.Leaves) == 0 {
		return Doc{}, fmt.Errorf("info text: no \"key: value\" lines")
	}
	return d, nil
}

// infoLevel is an open section of info text: its indentation and full key.
type infoLevel struct {
	indent int
	key    string
}

// pathOf and uniq build the full key of a line: the sections above it, '\x00'
// separated, with "#2", "#3" on repeats so no two leaves share a key.
func pathOf(stack []infoLevel, key string) string {
	if len(stack) == 0 {
		return key
	}
	return stack[len(stack)-1].key + "\x00" + key
}

func uniq(seen map[string]int, key string) string {
	seen[key]++
	if n := seen[key]; n > 1 {
		return key + "#" + strconv.Itoa(n)
	}
	return key
}

func splitKey(k string) []string { return strings.Split(k, "\x00") }

// ParseMapHuman reads `qemu-img map` text: a header "Offset Length Mapped
// to File" and one row per mapped extent.
func ParseMapHuman(b []byte) (Doc, error) {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(strings.Join(strings.Fields(lines[0]), " "), "Offset Length Mapped to File") {
		return Doc{}, fmt.Errorf("map text: first line %q is not the \"Offset Length Mapped to File\" header", lines[0])
	}
	d := Doc{Command: "map", Output: "human"}
	for i, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) < 4 {
			return Doc{}, fmt.Errorf("map text line %d: %q has fewer than 4 columns", i+2, line)
		}
		idx := "[" + strconv.Itoa(i) + "]"
		for j, col := range []string{"offset", "length", "mapped", "file"} {
			v := f[j]
			if col == "file" {
				v = strings.Join(f[3:], " ")
			}
			d.Leaves = append(d.Leaves, Leaf{Path: []string{idx, col}, Value: v})
		}
	}
	if len(lines) == 1 {
		d.Leaves = append(d.Leaves, Leaf{Path: nil, Value: "[]"})
	}
	return d, nil
}

// ParseSnapshotList reads `qemu-img snapshot -l`: the header's column names
// become leaves under "columns" and each row's cells leaves under "[i]".
func ParseSnapshotList(b []byte) (Doc, error) {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) < 2 || strings.TrimSpace(lines[0]) != "Snapshot list:" {
		return Doc{}, fmt.Errorf("snapshot list: want \"Snapshot list:\" and a header line, got %q", clip(string(b)))
	}
	d := Doc{Command: "snapshot", Output: "human"}
	// Older versions separate two-word names with one space ("VM SIZE"),
	// columns with two or more.
	var cols []string
	for _, c := range strings.Split(lines[1], "  ") {
		if c = strings.TrimSpace(c); c != "" {
			cols = append(cols, c)
		}
	}
	for i, c := range cols {
		d.Leaves = append(d.Leaves, Leaf{Path: []string{"columns", "[" + strconv.Itoa(i) + "]", c}, Value: c})
	}
	// Rows: ID TAG "VM SIZE" (two words) DATE (two words) "VM CLOCK" and,
	// from 5.0 on, ICOUNT.
	for i, line := range lines[2:] {
		f := strings.Fields(line)
		if len(f) < 7 {
			return Doc{}, fmt.Errorf("snapshot list line %d: %q has fewer than 7 fields", i+3, line)
		}
		row := []struct{ k, v string }{
			{"id", f[0]}, {"tag", f[1]}, {"vm-size", f[2] + " " + f[3]},
			{"date", f[4] + " " + f[5]}, {"vm-clock", f[6]}, {"icount", strings.Join(f[7:], " ")},
		}
		for _, c := range row {
			d.Leaves = append(d.Leaves, Leaf{Path: []string{"[" + strconv.Itoa(i) + "]", c.k}, Value: c.v})
		}
	}
	return d, nil
}
