package doccheck

import (
	"go/ast"
	"go/token"
	"strings"
)

// symbols is what a package declares, in the terms doc links and mentions
// use: a top-level const, var, func or type by its name, and a method, struct
// field or interface method by its type and its name.
type symbols struct {
	top     map[string]bool
	members map[string]map[string]bool
	// open holds the types whose members cannot all be known from this
	// package's source: those that embed, alias or are defined from a type
	// of another package. Any member of an open type is accepted.
	open map[string]bool
}

// has reports whether the package declares name, or, with recv set, whether
// its type recv has a method or field name.
func (s symbols) has(recv, name string) bool {
	if recv == "" {
		return s.top[name]
	}
	if !s.top[recv] {
		return false
	}
	return s.open[recv] || s.members[recv][name]
}

// isType reports whether name is a type of the package.
func (s symbols) isType(name string) bool {
	_, ok := s.members[name]
	return ok || s.open[name]
}

// collectSymbols reads the declarations of files, which belong to one
// package. Members promoted from embedded types of the same package are
// included; build constraints are ignored, so that a symbol declared for one
// platform only still exists.
func collectSymbols(files []*ast.File) symbols {
	s := symbols{
		top:     map[string]bool{},
		members: map[string]map[string]bool{},
		open:    map[string]bool{},
	}
	embeds := map[string][]string{}
	member := func(typ, name string) {
		if s.members[typ] == nil {
			s.members[typ] = map[string]bool{}
		}
		s.members[typ][name] = true
	}
	// embed records that typ gets the members of the type expression e.
	embed := func(typ string, e ast.Expr) {
		switch name := typeName(e).(type) {
		case *ast.Ident:
			embeds[typ] = append(embeds[typ], name.Name)
		case *ast.SelectorExpr:
			s.open[typ] = true
		}
	}
	for _, f := range files {
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil || len(d.Recv.List) == 0 {
					s.top[d.Name.Name] = true
					continue
				}
				if id, ok := typeName(d.Recv.List[0].Type).(*ast.Ident); ok {
					member(id.Name, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch sp := spec.(type) {
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							s.top[n.Name] = true
						}
					case *ast.TypeSpec:
						t := sp.Name.Name
						s.top[t] = true
						if s.members[t] == nil {
							s.members[t] = map[string]bool{}
						}
						switch typ := sp.Type.(type) {
						case *ast.StructType:
							for _, fld := range typ.Fields.List {
								if len(fld.Names) == 0 {
									if id := typeName(fld.Type); id != nil {
										member(t, lastName(id))
									}
									embed(t, fld.Type)
								}
								for _, n := range fld.Names {
									member(t, n.Name)
								}
							}
						case *ast.InterfaceType:
							for _, m := range typ.Methods.List {
								if len(m.Names) == 0 {
									embed(t, m.Type)
								}
								for _, n := range m.Names {
									member(t, n.Name)
								}
							}
						default:
							// A defined type or an alias: it has the
							// fields (and, for an alias or an interface,
							// the methods) of what it is made from.
							embed(t, sp.Type)
						}
					}
				}
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for t, es := range embeds {
			for _, e := range es {
				if s.open[e] && !s.open[t] {
					s.open[t] = true
					changed = true
				}
				for m := range s.members[e] {
					if !s.members[t][m] {
						member(t, m)
						changed = true
					}
				}
			}
		}
	}
	return s
}

// typeName returns the named type that e is made from, *ast.Ident or
// *ast.SelectorExpr, looking through pointers, parentheses and type
// arguments; nil for a type literal.
func typeName(e ast.Expr) ast.Expr {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.ParenExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.Ident, *ast.SelectorExpr:
			return t
		default:
			return nil
		}
	}
}

func lastName(e ast.Expr) string {
	if sel, ok := e.(*ast.SelectorExpr); ok {
		return sel.Sel.Name
	}
	return e.(*ast.Ident).Name
}

// importName is the name an import spec binds in its file: its own name, the
// package's real name when known (names), or the name go/doc assumes from the
// path. It is "" for blank and dot imports.
func importName(spec *ast.ImportSpec, names map[string]string) (name, path string) {
	path = strings.Trim(spec.Path.Value, "`\"")
	if spec.Name != nil {
		if spec.Name.Name == "_" || spec.Name.Name == "." {
			return "", path
		}
		return spec.Name.Name, path
	}
	if n, ok := names[path]; ok {
		return n, path
	}
	return assumedPackageName(path), path
}

// assumedPackageName is the package name go/doc assumes for an import path
// it cannot read: the last element, before a major-version element, without
// a "go-" prefix, up to the first character that cannot be in a name.
func assumedPackageName(importPath string) string {
	elems := strings.Split(importPath, "/")
	base := elems[len(elems)-1]
	if len(elems) > 1 && isMajorVersion(base) {
		base = elems[len(elems)-2]
	}
	base = strings.TrimPrefix(base, "go-")
	if i := strings.IndexFunc(base, func(r rune) bool { return !isIdentRune(r) }); i >= 0 {
		base = base[:i]
	}
	return base
}

func isMajorVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isIdentRune(r rune) bool {
	return r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r > 127 && token.IsIdentifier(string(r))
}
