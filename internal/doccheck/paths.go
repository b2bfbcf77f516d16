package doccheck

import (
	"fmt"
	"path"
	"strings"
)

// pathExts are the extensions that make a slash-separated word a file
// reference even when its first element does not exist.
var pathExts = map[string]bool{
	".md": true, ".go": true, ".sh": true, ".yml": true, ".yaml": true,
	".json": true, ".toml": true, ".mod": true, ".sum": true,
}

// pathToken checks word, found at line of file (a slash path relative to the
// root), when it is a reference to a file or directory of the repository.
// It is one when, with surrounding punctuation trimmed (the whole of a code
// span: inSpan), it is made of letters, digits and "._-/" only, holds a "/"
// but no "//", does not start with "/", does not start with a host name
// (a first element with a dot inside, as in github.com/…), and: its first
// element exists next to file or at the root, or, when that element does
// not start with "." (.github/ and .gitlab/ are where a reader's own
// repository keeps its CI files), it ends in one of pathExts or, in a code
// span, in "/". "./" before it and "/..." after it are dropped. It must
// then exist next to file or at the root.
func (c *checker) pathToken(file string, line int, word string, inSpan bool) {
	tok := word
	if !inSpan {
		tok = strings.TrimLeft(tok, "(\"'`")
		tok = strings.TrimRight(tok, ")\"'`,.;:!?")
	}
	p := strings.TrimPrefix(tok, "./")
	p = strings.TrimSuffix(p, "/...")
	if p == "" || !strings.Contains(p, "/") || strings.HasPrefix(p, "/") || strings.Contains(p, "//") {
		return
	}
	for _, r := range p {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("._-/", r)) {
			return
		}
	}
	bases := []string{path0(file)}
	if bases[0] != "." {
		bases = append(bases, ".")
	}
	first := p[:strings.IndexByte(p, '/')]
	firstExists := false
	for _, b := range bases {
		if c.exists(path.Join(b, first)) {
			firstExists = true
		}
	}
	if !firstExists && strings.IndexByte(first, '.') > 0 {
		return // a host: github.com/…, example.com/…
	}
	if !firstExists && (strings.HasPrefix(first, ".") || !pathExts[path.Ext(p)] && !(inSpan && strings.HasSuffix(p, "/"))) {
		return
	}
	for _, b := range bases {
		if c.exists(path.Join(b, p)) {
			return
		}
	}
	where := "the repository root"
	if bases[0] != "." {
		where = bases[0] + "/ or " + where
	}
	c.add(ref{file: file, line: line, text: tok,
		problem: fmt.Sprintf("no such file or directory in %s", where)})
}
