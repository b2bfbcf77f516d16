package doccheck

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// A Finding is one dangling reference.
type Finding struct {
	File    string // slash path relative to the module root
	Line    int
	Ref     string // the reference as written
	Problem string // why it does not resolve
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Ref, f.Problem)
}

// Check reads the module whose go.mod is in root and returns every dangling
// reference of its doc comments and Markdown files, ordered by file and line.
// The error is for a tree it could not read; dangling references, including
// links to packages that cannot be found, are findings.
func Check(root string) ([]Finding, error) {
	m, err := loadModule(root)
	if err != nil {
		return nil, err
	}
	c := &checker{m: m, anchors: map[string]map[string]bool{}}
	for _, f := range m.files {
		c.goFile(f)
	}
	for _, rel := range m.markdown {
		if err := c.markdownFile(rel); err != nil {
			return nil, err
		}
	}
	var paths []string
	seen := map[string]bool{}
	for _, r := range c.refs {
		for _, t := range r.in {
			if t.syms == nil && !seen[t.path] {
				seen[t.path] = true
				paths = append(paths, t.path)
			}
		}
	}
	sort.Strings(paths)
	ext, err := loadExternal(m.root, paths)
	if err != nil {
		return nil, err
	}
	var out []Finding
	dup := map[Finding]bool{}
	for _, r := range c.refs {
		problem := r.problem
		if problem == "" {
			problem = r.resolve(ext)
		}
		if problem == "" {
			continue
		}
		f := Finding{File: r.file, Line: r.line, Ref: r.text, Problem: problem}
		if !dup[f] {
			dup[f] = true
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out, nil
}

type checker struct {
	m       *module
	refs    []ref
	anchors map[string]map[string]bool // Markdown file → its heading anchors
}

// A ref is one reference, resolved when every package it may name is read.
type ref struct {
	file    string
	line    int
	text    string
	problem string // known to dangle already

	in     []target // the packages it may name: it resolves if any has it
	where  string   // those packages, for the message
	qual   string   // the package qualifier as written, for the message
	name   string   // "" when the package itself is the reference
	member string   // a method or field of type name
	// loose is for a mention, where pkg.Name.Member may be a value's
	// field: the member is checked only when Name is a type.
	loose bool
}

// A target is a package: the module's own (syms set) or an external one by
// import path.
type target struct {
	path string
	syms *symbols
}

func (c *checker) add(r ref) { c.refs = append(c.refs, r) }

func (r ref) resolve(ext map[string]*external) string {
	var syms []symbols
	var errs []string
	for _, t := range r.in {
		if t.syms != nil {
			syms = append(syms, *t.syms)
			continue
		}
		if e := ext[t.path]; e.err != nil {
			errs = append(errs, fmt.Sprintf("cannot find package %s: %v", t.path, e.err))
		} else {
			syms = append(syms, e.syms)
		}
	}
	if len(syms) == 0 {
		return strings.Join(errs, "; ")
	}
	if r.name == "" {
		return ""
	}
	hasAny := func(recv, name string) bool {
		for _, s := range syms {
			if s.has(recv, name) {
				return true
			}
		}
		return false
	}
	if !hasAny("", r.name) {
		return fmt.Sprintf("%s has no %s", r.where, r.name)
	}
	if r.member == "" || hasAny(r.name, r.member) {
		return ""
	}
	for _, s := range syms {
		if s.isType(r.name) {
			return fmt.Sprintf("%s.%s has no method or field %s", r.qualified(), r.name, r.member)
		}
	}
	if r.loose {
		return ""
	}
	return fmt.Sprintf("%s.%s is not a type", r.qualified(), r.name)
}

func (r ref) qualified() string {
	if r.qual == "" {
		return strings.TrimPrefix(r.where, "package ")
	}
	return r.qual
}

// localTarget is p's view for a reference from a file of fromDir: a test
// file of p's own directory sees p's test files too.
func localTarget(p *pkg, fromTest bool, fromDir string) target {
	if fromTest && fromDir == p.dir {
		return target{path: p.path, syms: &p.test}
	}
	return target{path: p.path, syms: &p.lib}
}

// describe names packages for a message: "package integration
// (github.com/…/integration)".
func describe(name string, ts []target) string {
	var paths []string
	for _, t := range ts {
		if !slices.Contains(paths, t.path) {
			paths = append(paths, t.path)
		}
	}
	if len(paths) == 1 {
		return fmt.Sprintf("package %s (%s)", name, paths[0])
	}
	return fmt.Sprintf("packages %s (%s)", name, strings.Join(paths, ", "))
}

// exists reports whether the slash path rel (relative to the module root)
// names a file or directory.
func (c *checker) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(c.m.root, filepath.FromSlash(path.Clean(rel))))
	return err == nil
}
