package doccheck

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

var (
	// inlineLinkRE is [text](target) or ![alt](target), with an optional title.
	inlineLinkRE = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]*)(?:\s+"[^"]*")?\)`)
	// linkDefRE is a reference definition, [label]: target.
	linkDefRE = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*(\S+)`)
	// struckRE is ~~struck-through text~~: what it names is gone on purpose
	// (the "was" column of a table of renamed identifiers).
	struckRE  = regexp.MustCompile(`~~[^~]+~~`)
	headingRE = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$`)
	schemeRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
)

type fence struct {
	char  byte
	width int
	lang  string
	first int // line of the block's first content line
	lines []string
}

// markdownLines reads a Markdown file and calls prose for each line outside
// fenced code blocks and block for each fenced block.
func (c *checker) markdownLines(rel string, prose func(n int, line string), block func(f *fence)) error {
	data, err := os.ReadFile(filepath.Join(c.m.root, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	var open *fence
	for i, ln := range strings.Split(string(data), "\n") {
		n := i + 1
		if open != nil {
			if closesFence(ln, open) {
				block(open)
				open = nil
			} else {
				open.lines = append(open.lines, ln)
			}
			continue
		}
		if f := opensFence(ln); f != nil {
			f.first = n + 1
			open = f
			continue
		}
		prose(n, ln)
	}
	return nil
}

func opensFence(ln string) *fence {
	t := strings.TrimLeft(ln, " ")
	if len(ln)-len(t) > 3 || len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return nil
	}
	w := 0
	for w < len(t) && t[w] == t[0] {
		w++
	}
	if w < 3 {
		return nil
	}
	info := strings.Fields(t[w:])
	f := &fence{char: t[0], width: w}
	if len(info) > 0 {
		f.lang = strings.ToLower(info[0])
	}
	return f
}

func closesFence(ln string, f *fence) bool {
	t := strings.TrimSpace(ln)
	return len(t) >= f.width && strings.Trim(t, string(f.char)) == ""
}

// markdownFile checks a Markdown file: relative links and their anchors,
// code spans that are repository paths, and mentions of the module's
// packages' identifiers in prose, in code spans and in fenced code. Struck
// through text is left out.
func (c *checker) markdownFile(rel string) error {
	return c.markdownLines(rel, func(n int, ln string) {
		ln = struckRE.ReplaceAllStringFunc(ln, func(s string) string { return strings.Repeat(" ", len(s)) })
		spans, masked := codeSpans(ln)
		for _, m := range inlineLinkRE.FindAllStringSubmatchIndex(masked, -1) {
			c.link(rel, n, ln[m[0]:m[1]], ln[m[2]:m[3]])
		}
		if m := linkDefRE.FindStringSubmatchIndex(masked); m != nil {
			c.link(rel, n, ln[m[0]:m[1]], ln[m[2]:m[3]])
		}
		for _, s := range spans {
			c.pathToken(rel, n, strings.TrimSpace(s), true)
		}
		for _, mt := range findMentions(ln) {
			c.proseMention(nil, rel, n, mt)
		}
	}, func(f *fence) {
		src := strings.Join(f.lines, "\n")
		if f.lang == "go" {
			c.codeMentions(rel, f.first, src)
			return
		}
		for i, ln := range f.lines {
			for _, mt := range findMentions(ln) {
				c.proseMention(nil, rel, f.first+i, mt)
			}
		}
	})
}

// codeSpans returns the contents of the line's code spans, and the line with
// those contents blanked out.
func codeSpans(ln string) (spans []string, masked string) {
	b := []byte(ln)
	for i := 0; i < len(ln); {
		if ln[i] != '`' {
			i++
			continue
		}
		w := 1
		for i+w < len(ln) && ln[i+w] == '`' {
			w++
		}
		tick := ln[i : i+w]
		end := strings.Index(ln[i+w:], tick)
		if end < 0 {
			i += w
			continue
		}
		start, stop := i+w, i+w+end
		spans = append(spans, ln[start:stop])
		for j := start; j < stop; j++ {
			b[j] = ' '
		}
		i = stop + w
	}
	return spans, string(b)
}

// link checks the target of a Markdown link in the file rel: a relative
// path must exist (from the file's directory; from the root if it starts
// with "/"), and an anchor into a Markdown file must be one of its headings'.
func (c *checker) link(rel string, n int, text, target string) {
	if target == "" || schemeRE.MatchString(target) || strings.HasPrefix(target, "//") {
		return
	}
	target, frag, _ := strings.Cut(target, "#")
	target, _, _ = strings.Cut(target, "?")
	if t, err := url.PathUnescape(target); err == nil {
		target = t
	}
	file := rel
	if target != "" {
		if strings.HasPrefix(target, "/") {
			file = path.Clean(strings.TrimPrefix(target, "/"))
		} else {
			file = path.Join(path.Dir(rel), target)
		}
		if !c.exists(file) {
			c.add(ref{file: rel, line: n, text: text, problem: fmt.Sprintf("no such file or directory %s", file)})
			return
		}
	}
	if frag == "" || !strings.HasSuffix(file, ".md") {
		return
	}
	anchors, err := c.headingAnchors(file)
	if err != nil {
		c.add(ref{file: rel, line: n, text: text, problem: err.Error()})
		return
	}
	if !anchors[strings.ToLower(frag)] {
		c.add(ref{file: rel, line: n, text: text, problem: fmt.Sprintf("%s has no heading with anchor #%s", file, frag)})
	}
}

// headingAnchors returns the anchors GitHub gives the headings of a
// Markdown file.
func (c *checker) headingAnchors(rel string) (map[string]bool, error) {
	if a, ok := c.anchors[rel]; ok {
		return a, nil
	}
	a := map[string]bool{}
	count := map[string]int{}
	err := c.markdownLines(rel, func(_ int, ln string) {
		m := headingRE.FindStringSubmatch(ln)
		if m == nil {
			return
		}
		s := slug(m[2])
		if k := count[s]; k > 0 {
			a[fmt.Sprintf("%s-%d", s, k)] = true
		} else {
			a[s] = true
		}
		count[s]++
	}, func(*fence) {})
	c.anchors[rel] = a
	return a, err
}

// slug is the anchor GitHub makes of a heading: link targets dropped, lower
// case, spaces to "-", and every character that is not a letter, a digit,
// "-" or "_" removed.
func slug(heading string) string {
	heading = inlineLinkRE.ReplaceAllStringFunc(heading, func(l string) string {
		return l[strings.IndexByte(l, '[')+1 : strings.IndexByte(l, ']')]
	})
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}
