package doccheck

import (
	"fmt"
	"go/ast"
	"go/doc/comment"
	"go/token"
	"strings"
)

// goFile checks the doc comments of f (its package comment and those of
// its declarations, struct fields and interface methods) for doc links,
// mentions and paths; its other comments, and the string literals of a
// file that is not a test (error messages that advise an option), for
// mentions only.
func (c *checker) goFile(f *goFile) {
	isDoc := map[*ast.CommentGroup]bool{}
	for _, cg := range docComments(f.ast) {
		isDoc[cg] = true
		c.docComment(f, cg)
	}
	for _, cg := range f.ast.Comments {
		if isDoc[cg] {
			continue
		}
		text, lines := commentText(c.m.fset, cg)
		c.textMentions(f, text, lines)
	}
	if f.test {
		return
	}
	ast.Inspect(f.ast, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			first := c.m.fset.Position(lit.Pos()).Line
			lines := make([]int, strings.Count(lit.Value, "\n")+1)
			for i := range lines {
				lines[i] = first + i
			}
			c.textMentions(f, lit.Value, lines)
		}
		return true
	})
}

// textMentions checks the mentions in text, whose line i is at lines[i].
func (c *checker) textMentions(f *goFile, text string, lines []int) {
	for i, ln := range strings.Split(text, "\n") {
		for _, mt := range findMentions(ln) {
			c.proseMention(f, f.rel, lines[i], mt)
		}
	}
}

func docComments(f *ast.File) []*ast.CommentGroup {
	var out []*ast.CommentGroup
	add := func(cg *ast.CommentGroup) {
		if cg != nil {
			out = append(out, cg)
		}
	}
	add(f.Doc)
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			add(d.Doc)
		case *ast.GenDecl:
			add(d.Doc)
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					add(s.Doc)
					ast.Inspect(s.Type, func(n ast.Node) bool {
						if fld, ok := n.(*ast.Field); ok {
							add(fld.Doc)
						}
						return true
					})
				case *ast.ValueSpec:
					add(s.Doc)
				}
			}
		}
	}
	return out
}

// commentText is the text of cg as go/doc reads it (markers, the first space
// of a line comment and directives removed), one element per source line so
// that an offset in it gives the line.
func commentText(fset *token.FileSet, cg *ast.CommentGroup) (text string, lines []int) {
	var b strings.Builder
	for _, c := range cg.List {
		line := fset.Position(c.Pos()).Line
		var parts []string
		if strings.HasPrefix(c.Text, "//") {
			t := c.Text[2:]
			if isDirective(t) {
				t = ""
			}
			parts = []string{strings.TrimPrefix(t, " ")}
		} else {
			parts = strings.Split(strings.TrimSuffix(c.Text[2:], "*/"), "\n")
		}
		for i, p := range parts {
			if len(lines) > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(p)
			lines = append(lines, line+i)
		}
	}
	return b.String(), lines
}

// isDirective reports whether a line comment's text (after "//") is a tool
// directive such as go:build or nolint:x, which go/doc leaves out.
func isDirective(t string) bool {
	if strings.HasPrefix(t, "line ") || strings.HasPrefix(t, "extern ") || strings.HasPrefix(t, "export ") {
		return true
	}
	colon := strings.Index(t, ":")
	if colon <= 0 || colon+1 >= len(t) {
		return false
	}
	for _, r := range t[:colon] {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9') {
			return false
		}
	}
	r := t[colon+1]
	return 'a' <= r && r <= 'z' || '0' <= r && r <= '9'
}

// unresolved marks, in a DocLink's ImportPath, a package name that no
// import, the package itself or the standard library gives.
const unresolved = "\x00"

func (c *checker) docComment(f *goFile, cg *ast.CommentGroup) {
	text, lines := commentText(c.m.fset, cg)
	lineAt := func(off int) int { return lines[strings.Count(text[:off], "\n")] }
	pkgImports := c.m.packageImports(f)
	p := &comment.Parser{
		// Every [Name] and [Recv.Name] is taken as a link, to be checked:
		// go doc would show one that does not resolve as plain text.
		LookupSym: func(recv, name string) bool { return true },
		LookupPackage: func(name string) (string, bool) {
			if !token.IsIdentifier(name) {
				return "", false
			}
			if ipath := f.imports[name]; ipath != "" {
				return ipath, true
			}
			if ipath, ok := pkgImports[name]; ok && ipath != "" {
				return ipath, true
			}
			if name == f.pkg.name {
				return "", true
			}
			if ipath, ok := comment.DefaultLookupPackage(name); ok {
				return ipath, true
			}
			return unresolved + name, true
		},
	}
	doc := p.Parse(text)

	// Doc links, found again in the text to know their lines; each is
	// blanked out so that the mention check does not see it twice.
	masked := []byte(text)
	from := 0
	for _, l := range docLinks(doc) {
		raw := "[" + plain(l.Text) + "]"
		i := strings.Index(text[from:], raw)
		if i < 0 {
			from = 0
			i = strings.Index(text, raw)
		}
		line := lines[0]
		if i >= 0 {
			i += from
			line = lineAt(i)
			for j := i; j < i+len(raw); j++ {
				masked[j] = ' '
			}
			from = i + len(raw)
		}
		c.docLink(f, line, raw, l)
	}

	c.textMentions(f, string(masked), lines)
	for i, ln := range strings.Split(text, "\n") {
		for _, tok := range strings.Fields(ln) {
			c.pathToken(f.rel, lines[i], tok, false)
		}
	}
}

func (c *checker) docLink(f *goFile, line int, raw string, l *comment.DocLink) {
	r := ref{file: f.rel, line: line, text: raw, name: l.Name}
	if l.Recv != "" {
		r.name, r.member = l.Recv, l.Name
	}
	switch ipath := l.ImportPath; {
	case strings.HasPrefix(ipath, unresolved):
		if l.Name == "" {
			return // [word]: not a link, as go doc reads it
		}
		name := ipath[len(unresolved):]
		r.problem = fmt.Sprintf("no import of package %s names %s, so go doc shows it as plain text", f.pkg.name, name)
		if ps := c.m.byName[name]; len(ps) == 1 {
			r.problem += fmt.Sprintf("; write [%s.%s]", ps[0].path, strings.TrimPrefix(raw[1:len(raw)-1], name+"."))
		}
	case ipath == "":
		if l.Name == "" {
			return
		}
		t := localTarget(f.pkg, f.test, f.pkg.dir)
		r.in, r.where = []target{t}, "package "+f.pkg.name
	case c.m.inModule(ipath):
		p := c.m.local(ipath)
		if p == nil {
			r.problem = "the module has no package " + ipath
			break
		}
		t := localTarget(p, f.test, f.pkg.dir)
		r.in, r.where, r.qual = []target{t}, describe(p.name, []target{t}), p.name
	default:
		r.in, r.where, r.qual = []target{{path: ipath}}, "package "+ipath, assumedPackageName(ipath)
	}
	c.add(r)
}

// docLinks returns the doc links of d in the order they appear.
func docLinks(d *comment.Doc) []*comment.DocLink {
	var out []*comment.DocLink
	var text func([]comment.Text)
	text = func(ts []comment.Text) {
		for _, t := range ts {
			switch t := t.(type) {
			case *comment.DocLink:
				out = append(out, t)
			case *comment.Link:
				text(t.Text)
			}
		}
	}
	var blocks func([]comment.Block)
	blocks = func(bs []comment.Block) {
		for _, b := range bs {
			switch b := b.(type) {
			case *comment.Paragraph:
				text(b.Text)
			case *comment.Heading:
				text(b.Text)
			case *comment.List:
				for _, it := range b.Items {
					blocks(it.Content)
				}
			}
		}
	}
	blocks(d.Content)
	return out
}

// plain is the source text of a link's text.
func plain(ts []comment.Text) string {
	var b strings.Builder
	for _, t := range ts {
		switch t := t.(type) {
		case comment.Plain:
			b.WriteString(string(t))
		case comment.Italic:
			b.WriteString(string(t))
		}
	}
	return b.String()
}
