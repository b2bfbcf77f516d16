package matrix

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func names(cells []Cell) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = c.Name()
	}
	return out
}

func TestExpandOrder(t *testing.T) {
	size := Strings("size", "s", "l")
	want := []string{
		"color=blue/size=s", "color=blue/size=l",
		"color=green/size=s", "color=green/size=l",
		"color=red/size=s", "color=red/size=l",
	}
	// Map iteration order changes between runs of the loop; the expansion must not.
	for i := 0; i < 50; i++ {
		color := FromMap("color", map[string]any{"red": 1, "blue": 2, "green": 3})
		cells, err := Expand(color, size)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(cells); !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d: got %v, want %v", i, got, want)
		}
	}
}

func TestExpandNoAxes(t *testing.T) {
	cells, err := Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 1 || cells[0].Name() != "" {
		t.Fatalf("got %v, want one empty cell", names(cells))
	}
}

func TestCellValue(t *testing.T) {
	cells, err := Expand(NewAxis("n", Value{"one", 1}, Value{"two", 2}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cells[1].Value("n"); got != 2 {
		t.Fatalf("Value(n) = %v, want 2", got)
	}
	if got := cells[1].Value("missing"); got != nil {
		t.Fatalf("Value(missing) = %v, want nil", got)
	}
	if got := cells[1].Without("n").Name(); got != "" {
		t.Fatalf("Without: %q", got)
	}
}

func TestExpandRejectsBadNames(t *testing.T) {
	for _, tc := range []struct {
		axes []Axis
		want string
	}{
		{[]Axis{Strings("os", "linux/amd64")}, `"linux/amd64"`},
		{[]Axis{Strings("os", "a b")}, `"a b"`},
		{[]Axis{Strings("", "x")}, "axis name is empty"},
		{[]Axis{Strings("a=b", "x")}, `"a=b"`},
		{[]Axis{Strings("os", "x", "x")}, `value "x" twice`},
		{[]Axis{Strings("os", "x"), Strings("os", "y")}, `"os" is declared twice`},
		{[]Axis{Strings("os")}, "no values"},
	} {
		_, err := Expand(tc.axes...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Expand(%v): err = %v, want it to mention %s", tc.axes, err, tc.want)
		}
	}
}

func TestSelector(t *testing.T) {
	cells, err := Expand(Strings("worker", "host", "containerd", "buildkitd-oci"), Strings("distro", "debian-11", "debian-12", "fedora-40"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{"", names(cells)},
		{"worker=host", []string{"worker=host/distro=debian-11", "worker=host/distro=debian-12", "worker=host/distro=fedora-40"}},
		{"worker=host|containerd, distro=debian-*", []string{
			"worker=host/distro=debian-11", "worker=host/distro=debian-12",
			"worker=containerd/distro=debian-11", "worker=containerd/distro=debian-12"}},
		{"worker=*kit*,distro=*-40", []string{"worker=buildkitd-oci/distro=fedora-40"}},
		{"worker=nope", nil},
		{"platform=amd64", nil}, // an axis the cells lack matches nothing
	} {
		sel, err := ParseSelector(tc.expr)
		if err != nil {
			t.Fatalf("ParseSelector(%q): %v", tc.expr, err)
		}
		var got []string
		for _, c := range cells {
			if sel.Match(c) {
				got = append(got, c.Name())
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("select %q: got %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func TestSelectorErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"worker":            `term "worker" has no '='`,
		"worker=":           "empty value",
		"=host":             "empty axis",
		"worker=a,,x=b":     "empty term",
		"worker=a,":         "empty term",
		"worker=a||b":       "empty value",
		"worker=a,worker=b": `axis "worker" appears twice`,
		"wor*ker=a":         `axis "wor*ker"`,
		"worker=a/b":        `value "a/b"`,
		"worker=a=b":        `value "a=b"`,
	} {
		_, err := ParseSelector(expr)
		if err == nil {
			t.Errorf("ParseSelector(%q) accepted a malformed expression", expr)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("%q", expr)) {
			t.Errorf("ParseSelector(%q) = %v; want it to quote the input and mention %s", expr, err, want)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*", "abc", true}, {"*c", "abc", true},
		{"a*c", "abbbc", true}, {"a*c", "abcd", false}, {"a**b*c", "axbyc", true},
		{"abc", "abc", true}, {"abc", "abd", false}, {"", "", true}, {"", "a", false},
		{"*a*a*a*a*b", strings.Repeat("a", 60), false},
	} {
		if got := Glob(tc.p, tc.s); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

func TestShardsDisjointAndComplete(t *testing.T) {
	var keys []string
	for i := 0; i < 500; i++ {
		keys = append(keys, fmt.Sprintf("TestSuite/TestCase%d/worker=host/n=%d", i%37, i))
	}
	for _, n := range []int{1, 2, 3, 7, 16} {
		count := map[string]int{}
		for i := 1; i <= n; i++ {
			sh, err := ParseShard(fmt.Sprintf("%d/%d", i, n))
			if err != nil {
				t.Fatal(err)
			}
			kept := 0
			for _, k := range keys {
				if sh.Keep(k) {
					count[k]++
					kept++
				}
			}
			if n > 1 && kept == 0 {
				t.Errorf("shard %d/%d keeps nothing of %d keys", i, n, len(keys))
			}
		}
		for _, k := range keys {
			if count[k] != 1 {
				t.Fatalf("n=%d: %s kept by %d shards, want exactly 1", n, k, count[k])
			}
		}
	}
}

func TestShardStableAsCellsAreAdded(t *testing.T) {
	sh := Shard{Index: 2, Count: 3}
	before := map[string]bool{}
	for i := 0; i < 100; i++ {
		k := fmt.Sprintf("T/c%d", i)
		before[k] = sh.Keep(k)
	}
	// Adding keys never changes where the old ones go: the assignment is a
	// function of the key alone.
	for i := 100; i < 200; i++ {
		sh.Keep(fmt.Sprintf("T/c%d", i))
	}
	for k, v := range before {
		if sh.Keep(k) != v {
			t.Fatalf("%s moved shards", k)
		}
	}
	// Pin the hash so a change of algorithm (which would reshuffle every CI
	// shard) is a deliberate, visible act.
	if got := Hash("TestQuickstart/TestEcho/worker=host/color=red"); got != 0xdff174721d9f36ee {
		t.Fatalf("Hash changed to %#x: every CI shard assignment would move", got)
	}
}

func TestParseShardErrors(t *testing.T) {
	for _, s := range []string{"0/3", "4/3", "1/0", "a/3", "1/b", "3", "1/2/3", "-1/2"} {
		if _, err := ParseShard(s); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
			t.Errorf("ParseShard(%q) = %v, want an error quoting the input", s, err)
		}
	}
	if sh, err := ParseShard(" 2/5 "); err != nil || sh != (Shard{2, 5}) {
		t.Errorf("ParseShard(2/5) = %v, %v", sh, err)
	}
}

func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{"", "worker=host", "a=b|c,d=e*", "a=*", ",", "a=", "=b", "a=b,a=c", "a=b|", " a = b "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		sel, err := ParseSelector(expr)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", expr)) {
				t.Fatalf("error %q does not quote the input", err)
			}
			return
		}
		if strings.TrimSpace(expr) != "" && sel.Empty() {
			t.Fatalf("non-empty expression %q parsed to match-all", expr)
		}
		// Every accepted term must be re-parseable on its own and must select
		// a cell built from literal values of it.
		for _, tm := range sel.terms {
			for _, p := range tm.patterns {
				lit := strings.ReplaceAll(p, "*", "x")
				cells, err := Expand(Strings(tm.axis, lit))
				if err != nil {
					t.Fatalf("accepted axis %q / value %q that Expand rejects: %v", tm.axis, lit, err)
				}
				if !Glob(p, lit) {
					t.Fatalf("pattern %q does not match its own literal %q", p, lit)
				}
				one, err := ParseSelector(tm.axis + "=" + p)
				if err != nil || !one.Match(cells[0]) {
					t.Fatalf("term %s=%s does not select %s: %v", tm.axis, p, cells[0].Name(), err)
				}
			}
		}
	})
}

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"", "1/1", "2/3", "0/3", "4/3", "a/b", "1/", "/1", "1/2/3", " 2/5 ", "-1/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("error %q does not quote %q", err, s)
			}
			return
		}
		if strings.TrimSpace(s) == "" {
			return
		}
		if sh.Index < 1 || sh.Index > sh.Count {
			t.Fatalf("%q parsed to %+v", s, sh)
		}
		if again, err := ParseShard(sh.String()); err != nil || again != sh {
			t.Fatalf("%q: round trip %q -> %+v, %v", s, sh.String(), again, err)
		}
	})
}
