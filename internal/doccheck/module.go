package doccheck

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// module is the source tree being checked: its Go packages, read from
// source, and its Markdown files.
type module struct {
	root     string // absolute directory of go.mod
	path     string // module path
	fset     *token.FileSet
	pkgs     map[string]*pkg   // by import path; an external test package by path + "_test"
	byName   map[string][]*pkg // importable packages (not main, not test-only) by name
	names    map[string]string // import path → package name, for the module's packages
	files    []*goFile
	markdown []string // slash paths relative to root

	pkgImports map[importsKey]map[string]string
}

type importsKey struct {
	pkg  *pkg
	test bool
}

// pkg is one package of the module, in three views: lib is what importers
// and go doc see (the non-test files), test adds the package's _test.go
// files, and for an external test package (name_test) both are its files.
type pkg struct {
	path, name, dir string // dir is slash, relative to root ("." for the root)
	lib, test       symbols
	libFiles        []*ast.File
	testFiles       []*ast.File
	xtest           bool
}

type goFile struct {
	rel     string // slash path relative to root
	ast     *ast.File
	pkg     *pkg
	test    bool              // a _test.go file: it sees the test view
	imports map[string]string // name → import path, "" for a name bound twice
}

// view is the symbols f sees of its own package.
func (f *goFile) view() symbols {
	if f.test {
		return f.pkg.test
	}
	return f.pkg.lib
}

// loadModule reads go.mod in root and parses every Go file of the module
// (not under testdata, vendor, or a directory whose name starts with "." or
// "_", nor in a nested module), and lists its Markdown files (those under
// nested modules too).
func loadModule(root string) (*module, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	modPath, err := readModulePath(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	m := &module{
		root:   root,
		path:   modPath,
		fset:   token.NewFileSet(),
		pkgs:   map[string]*pkg{},
		byName: map[string][]*pkg{},
		names:  map[string]string{},

		pkgImports: map[importsKey]map[string]string{},
	}
	type parsed struct {
		rel  string
		file *ast.File
	}
	dirs := map[string][]parsed{} // slash dir → files
	var dirOrder []string
	nested := map[string]bool{} // slash dir → in a nested module
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if d.IsDir() {
			if rel != "." && skipDir(name) {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(name, ".md"):
			m.markdown = append(m.markdown, rel)
		case strings.HasSuffix(name, ".go") && !inNestedModule(root, path.Dir(rel), nested):
			f, err := parser.ParseFile(m.fset, p, nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				return fmt.Errorf("parse %s: %w", rel, err)
			}
			dir := path.Dir(rel)
			if _, ok := dirs[dir]; !ok {
				dirOrder = append(dirOrder, dir)
			}
			dirs[dir] = append(dirs[dir], parsed{rel, f})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Packages first, so that imports of the module's own packages bind
	// their real names.
	pkgOf := map[string]*pkg{} // file rel → pkg
	for _, dir := range dirOrder {
		importPath := modPath
		if dir != "." {
			importPath = modPath + "/" + dir
		}
		for _, pf := range dirs[dir] {
			name := pf.file.Name.Name
			test := strings.HasSuffix(pf.rel, "_test.go")
			key := importPath
			xtest := test && strings.HasSuffix(name, "_test")
			if xtest {
				key = importPath + "_test"
			}
			p := m.pkgs[key]
			if p == nil {
				p = &pkg{path: key, name: name, dir: dir, xtest: xtest}
				m.pkgs[key] = p
			}
			if test && !xtest {
				p.testFiles = append(p.testFiles, pf.file)
			} else {
				p.libFiles = append(p.libFiles, pf.file)
			}
			pkgOf[pf.rel] = p
		}
	}
	for _, p := range m.pkgs {
		p.lib = collectSymbols(p.libFiles)
		p.test = collectSymbols(append(append([]*ast.File(nil), p.libFiles...), p.testFiles...))
		if !p.xtest && len(p.libFiles) > 0 && p.name != "main" {
			m.byName[p.name] = append(m.byName[p.name], p)
			m.names[p.path] = p.name
		}
	}
	for _, ps := range m.byName {
		sort.Slice(ps, func(i, j int) bool { return ps[i].path < ps[j].path })
	}
	for _, dir := range dirOrder {
		for _, pf := range dirs[dir] {
			f := &goFile{
				rel:     pf.rel,
				ast:     pf.file,
				pkg:     pkgOf[pf.rel],
				test:    strings.HasSuffix(pf.rel, "_test.go"),
				imports: map[string]string{},
			}
			for _, spec := range pf.file.Imports {
				name, ipath := importName(spec, m.names)
				if name == "" {
					continue
				}
				if prev, ok := f.imports[name]; ok && prev != ipath {
					ipath = ""
				}
				f.imports[name] = ipath
			}
			m.files = append(m.files, f)
		}
	}
	return m, nil
}

// skipDir reports whether a directory is left out, as the go command leaves
// it out of ./... (and testdata holds fixtures, not documentation).
func skipDir(name string) bool {
	return name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// inNestedModule reports whether the slash directory dir (relative to root)
// is inside a module of its own, remembering the answer in seen.
func inNestedModule(root, dir string, seen map[string]bool) bool {
	if dir == "." {
		return false
	}
	in, ok := seen[dir]
	if !ok {
		_, err := os.Stat(filepath.Join(root, filepath.FromSlash(dir), "go.mod"))
		in = err == nil || inNestedModule(root, path.Dir(dir), seen)
		seen[dir] = in
	}
	return in
}

func readModulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}

// packageImports is what name binds over all files of f's view of its
// package, as go/doc resolves a doc link's package: "" when two files bind
// it to different paths.
func (m *module) packageImports(f *goFile) map[string]string {
	key := importsKey{f.pkg, f.test}
	if out, ok := m.pkgImports[key]; ok {
		return out
	}
	out := map[string]string{}
	m.pkgImports[key] = out
	for _, g := range m.files {
		if g.pkg != f.pkg || (g.test && !f.test) {
			continue
		}
		for name, ipath := range g.imports {
			if prev, ok := out[name]; ok && prev != ipath {
				ipath = ""
			}
			out[name] = ipath
		}
	}
	return out
}

// local returns the module's package with import path ipath, or nil.
func (m *module) local(ipath string) *pkg {
	if ipath != m.path && !strings.HasPrefix(ipath, m.path+"/") {
		return nil
	}
	return m.pkgs[ipath]
}

// inModule reports whether ipath names a package path of the module.
func (m *module) inModule(ipath string) bool {
	return ipath == m.path || strings.HasPrefix(ipath, m.path+"/")
}
