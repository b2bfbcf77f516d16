package integration

import (
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// What a case logged, for its record: a failure's output and the message
// of the test's own t.Skip.
//
// Go's testing package gives no access to a test's output. It keeps the
// output of a test that is not verbose in an unexported buffer until the
// test ends, and prints that of a verbose one (-v, go test -json) at once.
// testOutput reads that buffer, read-only, through reflection; when the
// field is not there (a Go release that renamed it) or the test is
// verbose, the record says where the test skipped, which the call stack
// tells in every mode, and that the message is in the go test output.
// TestSkipReasonsReachTheReport fails when the buffer cannot be read.

// maxOutput bounds the output kept in a record: its tail, where a failure
// ends.
const maxOutput = 16 << 10

// testOutput returns what t has logged so far, when the testing package
// holds it.
func testOutput(t *testing.T) (string, bool) {
	v := reflect.ValueOf(t).Elem().FieldByName("common")
	if !v.IsValid() {
		return "", false
	}
	out := v.FieldByName("output")
	if !out.IsValid() || out.Kind() != reflect.Slice || out.Type().Elem().Kind() != reflect.Uint8 {
		return "", false
	}
	return string(out.Bytes()), !testing.Verbose()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "…\n" + s
}

// lastMessage returns the last message of a test's output, whose entries
// read "    file.go:12: text" with further lines indented by eight spaces,
// without its indentation and call site.
func lastMessage(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	start := -1
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "    ") && !strings.HasPrefix(lines[i], "        ") {
			start = i
			break
		}
	}
	if start < 0 {
		return ""
	}
	msg := lines[start][4:]
	if _, after, ok := strings.Cut(msg, ": "); ok && strings.Contains(msg[:len(msg)-len(after)], ".go:") {
		msg = after
	}
	for _, l := range lines[start+1:] {
		msg += "\n" + strings.TrimPrefix(l, "        ")
	}
	return strings.TrimSpace(msg)
}

// skipCall inspects the stack of a test goroutine unwinding from SkipNow
// (call it from a deferred function): it returns the file:line of the
// call into the testing package, and whether that call was Skip or Skipf,
// which log their message just before.
func skipCall() (site string, logged bool) {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	inTesting := false
	for {
		f, more := frames.Next()
		switch {
		case strings.HasPrefix(f.Function, "testing."):
			inTesting = true
			logged = logged || strings.HasSuffix(f.Function, ").Skip") || strings.HasSuffix(f.Function, ").Skipf")
		case inTesting:
			return fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line), logged
		}
		if !more {
			return "", false
		}
	}
}
