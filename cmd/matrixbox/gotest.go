package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// goTestEvent is one line of go test -json (go doc test2json), with the
// fields of the build events too.
type goTestEvent struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // of build-output and build-fail
	FailedBuild string // of a package's fail: the build that failed
}

// failedPackage is a package whose go test failed: why, in a line, and its
// output.
type failedPackage struct {
	pkg, why, output string
}

// maxFailedLines bounds the output shown of each failed package: its end,
// where the failure is.
const maxFailedLines = 60

// failedPackages reads a go test -json stream and returns the packages
// that failed, in the order they ended.
func failedPackages(stream []byte) []failedPackage {
	type pkgState struct {
		out        []string
		failed     []string // tests that failed, in order
		messages   map[string]string
		failedTest map[string]bool
	}
	pkgs := map[string]*pkgState{}
	get := func(p string) *pkgState {
		if pkgs[p] == nil {
			pkgs[p] = &pkgState{messages: map[string]string{}, failedTest: map[string]bool{}}
		}
		return pkgs[p]
	}
	build := map[string][]string{} // import path (without " [x.test]") → build output
	var out []failedPackage
	sc := bufio.NewScanner(bytes.NewReader(stream))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var ev goTestEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch ev.Action {
		case "build-output":
			p, _, _ := strings.Cut(ev.ImportPath, " ")
			build[p] = append(build[p], strings.TrimRight(ev.Output, "\n"))
		case "output":
			st := get(ev.Package)
			line := strings.TrimRight(ev.Output, "\n")
			st.out = append(st.out, line)
			if msg, ok := logMessage(line); ok && ev.Test != "" {
				st.messages[ev.Test] = msg
			}
		case "fail":
			st := get(ev.Package)
			if ev.Test != "" {
				st.failed = append(st.failed, ev.Test)
				st.failedTest[ev.Test] = true
				continue
			}
			f := failedPackage{pkg: ev.Package}
			switch {
			case ev.FailedBuild != "":
				p, _, _ := strings.Cut(ev.FailedBuild, " ")
				lines := build[p]
				f.why = "the build failed"
				for _, l := range lines {
					if !strings.HasPrefix(l, "#") {
						f.why += ": " + strings.TrimSpace(l)
						break
					}
				}
				f.output = strings.Join(lines, "\n")
			case len(st.failed) > 0:
				f.why = whyTestsFailed(st.failed, st.failedTest, st.messages)
				f.output = tailLines(st.out, maxFailedLines)
			default:
				f.why = "the test binary failed"
				for i := len(st.out) - 1; i >= 0; i-- {
					if l := strings.TrimSpace(st.out[i]); l != "" && !strings.HasPrefix(l, "FAIL") {
						f.why += ": " + l
						break
					}
				}
				f.output = tailLines(st.out, maxFailedLines)
			}
			out = append(out, f)
		}
	}
	return out
}

// whyTestsFailed names the failed tests that have no failed subtest, and
// the last message of the first.
func whyTestsFailed(failed []string, isFailed map[string]bool, messages map[string]string) string {
	var leaves []string
	for _, name := range failed {
		parent := false
		for other := range isFailed {
			if strings.HasPrefix(other, name+"/") {
				parent = true
				break
			}
		}
		if !parent {
			leaves = append(leaves, name)
		}
	}
	why := leaves[0] + " failed"
	if msg := messages[leaves[0]]; msg != "" {
		why += ": " + msg
	}
	if len(leaves) > 1 {
		why += fmt.Sprintf(" (and %d more)", len(leaves)-1)
	}
	return why
}

// logMessage returns the message of a test's log line
// ("    file_test.go:12: text").
func logMessage(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "    ")
	if !ok || strings.HasPrefix(rest, " ") {
		return "", false
	}
	site, msg, ok := strings.Cut(rest, ": ")
	if !ok || !strings.Contains(site, ".go:") {
		return "", false
	}
	return msg, true
}

func tailLines(lines []string, n int) string {
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[… %d lines before]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
