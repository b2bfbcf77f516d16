package doccheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strings"
)

// mentionRE finds pkg.Name and pkg.Name.Member in text: a lower-case
// qualifier that does not continue a word, a path or a selector, then an
// exported name.
var mentionRE = regexp.MustCompile(`(?:^|[^\w./\-$@])([a-z][a-z0-9_]*)\.([A-Z]\w*)(?:\.([A-Z]\w*))?`)

type mention struct {
	qual, name, member string
}

func findMentions(text string) []mention {
	var out []mention
	for _, m := range mentionRE.FindAllStringSubmatch(text, -1) {
		out = append(out, mention{qual: m[1], name: m[2], member: m[3]})
	}
	return out
}

// proseMention adds the check of a mention in prose: a comment or string
// literal of the Go file f, or Markdown when f is nil. A qualifier names a package
// when it is the name of one of the module's importable packages. In a Go
// file that imports a package of that name, it is that package; otherwise,
// and in Markdown, it may be any module package of that name or, in a Go
// file, the file's own package or one its package's files import by it
// (an example package named platform documents matrix/platform).
func (c *checker) proseMention(f *goFile, file string, line int, mt mention) {
	ps := c.m.byName[mt.qual]
	if len(ps) == 0 {
		return
	}
	var ts []target
	if f != nil {
		if ipath, ok := f.imports[mt.qual]; ok {
			if ipath == "" {
				return // two imports bind the name: the compiler says so
			}
			ts = c.importTarget(f, ipath)
		} else {
			if f.pkg.name == mt.qual {
				ts = append(ts, localTarget(f.pkg, f.test, f.pkg.dir))
			}
			if ipath := c.m.packageImports(f)[mt.qual]; ipath != "" {
				ts = append(ts, c.importTarget(f, ipath)...)
			}
		}
	}
	if len(ts) == 0 || f != nil && !hasKey(f.imports, mt.qual) {
		for _, p := range ps {
			ts = append(ts, target{path: p.path, syms: &p.lib})
		}
	}
	text := mt.qual + "." + mt.name
	if mt.member != "" {
		text += "." + mt.member
	}
	c.add(ref{
		file: file, line: line, text: text,
		in: ts, where: describe(mt.qual, ts), qual: mt.qual,
		name: mt.name, member: mt.member, loose: true,
	})
}

// importTarget is the package the import path ipath names for file f.
func (c *checker) importTarget(f *goFile, ipath string) []target {
	if c.m.inModule(ipath) {
		p := c.m.local(ipath)
		if p == nil {
			return nil
		}
		return []target{localTarget(p, f.test, path0(f.rel))}
	}
	return []target{{path: ipath}}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// A selector is pkg.Name in Go source, at line (1-based) of the source.
type selector struct {
	line       int
	qual, name string
	importPath string // what the source imports as qual, "" if it does not
}

// goSelectors parses src as a Go file, as declarations, or as statements,
// and returns its selectors qual.Name where qual is not declared in src
// (and so can only be a package) and Name is exported. ok is false when
// src parses as none of the three.
func goSelectors(src string, realNames map[string]string) (sels []selector, ok bool) {
	fset := token.NewFileSet()
	var f *ast.File
	for _, wrap := range []struct{ head, tail string }{
		{"", ""},
		{"package p; ", ""},
		{"package p; func _() { ", "\n}"},
	} {
		var err error
		f, err = parser.ParseFile(fset, "", wrap.head+src+wrap.tail, parser.SkipObjectResolution)
		if err == nil {
			break
		}
		f = nil
	}
	if f == nil {
		return nil, false
	}
	imports := map[string]string{}
	for _, spec := range f.Imports {
		if name, ipath := importName(spec, realNames); name != "" {
			imports[name] = ipath
		}
	}
	declared := declaredNames(f)
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok || declared[id.Name] || !sel.Sel.IsExported() {
			return true
		}
		sels = append(sels, selector{
			line:       fset.Position(sel.Pos()).Line,
			qual:       id.Name,
			name:       sel.Sel.Name,
			importPath: imports[id.Name],
		})
		return true
	})
	return sels, true
}

// declaredNames is every name src declares anywhere, whatever its scope:
// a selector on one of them is on a value or type of the snippet itself.
func declaredNames(f *ast.File) map[string]bool {
	out := map[string]bool{}
	add := func(ids ...*ast.Ident) {
		for _, id := range ids {
			out[id.Name] = true
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, e := range n.Lhs {
					if id, ok := e.(*ast.Ident); ok {
						add(id)
					}
				}
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if id, ok := e.(*ast.Ident); ok {
						add(id)
					}
				}
			}
		case *ast.ValueSpec:
			add(n.Names...)
		case *ast.TypeSpec:
			add(n.Name)
		case *ast.FuncDecl:
			add(n.Name)
		case *ast.Field:
			add(n.Names...)
		case *ast.LabeledStmt:
			add(n.Label)
		}
		return true
	})
	return out
}

// codeMentions adds the checks of the selectors of a Go code block that
// starts at line first of file: a selector whose qualifier the block
// imports names that package; one it does not import is checked when it is
// the name of one of the module's packages. A block that does not parse is
// read as prose.
func (c *checker) codeMentions(file string, first int, src string) {
	sels, ok := goSelectors(src, c.m.names)
	if !ok {
		for i, ln := range strings.Split(src, "\n") {
			for _, mt := range findMentions(ln) {
				c.proseMention(nil, file, first+i, mt)
			}
		}
		return
	}
	for _, s := range sels {
		var ts []target
		switch {
		case s.importPath != "" && c.m.inModule(s.importPath):
			if p := c.m.local(s.importPath); p != nil {
				ts = []target{{path: p.path, syms: &p.lib}}
			}
		case s.importPath != "":
			ts = []target{{path: s.importPath}}
		default:
			for _, p := range c.m.byName[s.qual] {
				ts = append(ts, target{path: p.path, syms: &p.lib})
			}
		}
		if len(ts) == 0 {
			if s.importPath != "" {
				c.add(ref{file: file, line: first + s.line - 1, text: s.importPath,
					problem: "the module has no such package"})
			}
			continue
		}
		c.add(ref{
			file: file, line: first + s.line - 1, text: s.qual + "." + s.name,
			in: ts, where: describe(s.qual, ts), qual: s.qual, name: s.name,
		})
	}
}

// path0 is the slash directory of a slash file path.
func path0(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return "."
}
