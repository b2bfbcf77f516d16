package matrix

import (
	"fmt"
	"reflect"
	"slices"
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
		"worker":             `term "worker" has no '='`,
		"worker=":            "empty value",
		"=host":              "empty axis",
		"worker=a,,x=b":      "empty term",
		"worker=a,":          "empty term",
		"worker=a||b":        "empty value",
		"worker=a,worker=b":  `axis "worker" appears twice`,
		"wor*ker=a":          `axis "wor*ker"`,
		"worker=a/b":         `value "a/b"`,
		"worker=a=b":         `value "a=b"`,
		"worker=[":           `'[' is no wildcard here (only '*' is`,
		"worker=buildkitd-?": `'?' is no wildcard here`,
		"worker={a,b}":       `'{' is no wildcard here`,
		// A platform as written elsewhere: say what its value is named.
		"platform=linux/arm64": `value "linux/arm64": character '/' is not allowed: value names use '-' where the value has '/' (did you mean linux-arm64?)`,
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

// ciProtocols is the table of issue 14, written out here independently of
// the code: engine, index variable, total variable, first index.
var ciProtocols = []struct {
	engine, index, total string
	base                 int
}{
	{"Bazel", "TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS", 0},
	{"GitLab CI", "CI_NODE_INDEX", "CI_NODE_TOTAL", 1},
	{"CircleCI", "CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", 0},
	{"Buildkite", "BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", 0},
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestShardsDisjointAndComplete is the property: for every CI engine and
// every job count from 1 to 256, the jobs' shards are 1..n once each, and
// the cases they keep are disjoint, complete and balanced.
func TestShardsDisjointAndComplete(t *testing.T) {
	var keys []string
	for _, test := range []string{"TestBuild", "TestPush", "TestInspect"} {
		for _, lang := range []string{"go", "rust", "zig", "c"} {
			for _, size := range []string{"s", "m", "l"} {
				keys = append(keys, "TestSuite/"+test+"/worker=host/lang="+lang+"/size="+size)
			}
		}
	}
	for _, p := range ciProtocols {
		for n := 1; n <= 256; n++ {
			assigned := Assign("TestSuite", keys, n)
			count := make([]int, n+1)
			for _, a := range assigned {
				if a < 1 || a > n {
					t.Fatalf("n=%d: shard %d out of range", n, a)
				}
				count[a]++
			}
			seen := map[int]bool{}
			taken := map[string]int{}
			for job := p.base; job < p.base+n; job++ {
				sh, from, _, err := DetectShard(envOf(map[string]string{p.index: fmt.Sprint(job), p.total: fmt.Sprint(n)}))
				if err != nil {
					t.Fatalf("%s job %d of %d: %v", p.engine, job, n, err)
				}
				if n == 1 {
					if sh != (Shard{}) || from != "" {
						t.Fatalf("%s: a total of 1 gave %v from %q, want no sharding", p.engine, sh, from)
					}
					sh = Shard{Index: 1, Count: 1}
				} else if sh.Count != n || seen[sh.Index] || !strings.HasPrefix(from, p.engine+" (") {
					t.Fatalf("%s job %d of %d: shard %v from %q (seen %v)", p.engine, job, n, sh, from, seen)
				}
				seen[sh.Index] = true
				for i, k := range keys {
					if assigned[i] == sh.Index {
						taken[k]++
					}
				}
			}
			for _, k := range keys {
				if taken[k] != 1 {
					t.Fatalf("%s n=%d: %s kept by %d shards, want exactly 1", p.engine, n, k, taken[k])
				}
			}
			lo, hi := len(keys), 0
			for _, c := range count[1:] {
				lo, hi = min(lo, c), max(hi, c)
			}
			if hi-lo > 1 {
				t.Fatalf("n=%d: shard sizes from %d to %d, want them to differ by at most one", n, lo, hi)
			}
		}
	}
}

// TestAssignDependsOnTheSetAlone: every shard process lists the cases in
// its own order; they must still agree.
func TestAssignDependsOnTheSetAlone(t *testing.T) {
	var keys []string
	for i := 0; i < 50; i++ {
		keys = append(keys, fmt.Sprintf("T/c%d", i))
	}
	want := map[string]int{}
	for i, a := range Assign("T", keys, 7) {
		want[keys[i]] = a
	}
	rev := slices.Clone(keys)
	slices.Reverse(rev)
	for i, a := range Assign("T", rev, 7) {
		if want[rev[i]] != a {
			t.Fatalf("%s: shard %d in one order, %d in another", rev[i], want[rev[i]], a)
		}
	}
	// Groups of one case start at different shards.
	firsts := map[int]bool{}
	for g := 0; g < 40; g++ {
		firsts[Assign(fmt.Sprintf("TestRun%d", g), []string{"only"}, 8)[0]] = true
	}
	if len(firsts) < 4 {
		t.Errorf("40 one-case groups went to %d of 8 shards", len(firsts))
	}
	// Pin the hash so a change of algorithm (which would reshuffle every CI
	// shard) is a deliberate, visible act.
	if got := Hash("TestQuickstart/TestEcho/worker=host/color=red"); got != 0xdff174721d9f36ee {
		t.Fatalf("Hash changed to %#x: every CI shard assignment would move", got)
	}
}

func TestDetectShard(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		want    Shard
		from    string
		ignored int
		err     string
	}{
		{env: nil},
		{env: map[string]string{"CI_NODE_TOTAL": "1"}}, // GitLab outside a parallel job
		{env: map[string]string{"CI_NODE_INDEX": "3", "CI_NODE_TOTAL": "4"}, want: Shard{3, 4}, from: "GitLab CI (CI_NODE_INDEX=3, CI_NODE_TOTAL=4)"},
		{env: map[string]string{"TEST_SHARD_INDEX": "0", "TEST_TOTAL_SHARDS": "2", "CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "3"},
			want: Shard{1, 2}, from: "Bazel (TEST_SHARD_INDEX=0, TEST_TOTAL_SHARDS=2)", ignored: 1},
		{env: map[string]string{"BUILDKITE_PARALLEL_JOB": "4", "BUILDKITE_PARALLEL_JOB_COUNT": "5"}, want: Shard{5, 5}, from: "Buildkite (BUILDKITE_PARALLEL_JOB=4, BUILDKITE_PARALLEL_JOB_COUNT=5)"},
		{env: map[string]string{"CIRCLE_NODE_INDEX": "2", "CIRCLE_NODE_TOTAL": "2"}, err: `CIRCLE_NODE_INDEX="2": want 0 to 1 (CircleCI counts`},
		{env: map[string]string{"CI_NODE_INDEX": "0", "CI_NODE_TOTAL": "2"}, err: `CI_NODE_INDEX="0": want 1 to 2`},
		{env: map[string]string{"TEST_TOTAL_SHARDS": "four"}, err: `TEST_TOTAL_SHARDS="four" (Bazel): want a whole number`},
		{env: map[string]string{"CIRCLE_NODE_TOTAL": "3"}, err: "CIRCLE_NODE_TOTAL=3 but CIRCLE_NODE_INDEX is not set"},
	} {
		sh, from, ignored, err := DetectShard(envOf(tc.env))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: err = %v, want %q", tc.env, err, tc.err)
			}
			continue
		}
		if err != nil || sh != tc.want || from != tc.from || len(ignored) != tc.ignored {
			t.Errorf("%v: %v from %q ignoring %q, %v; want %v from %q", tc.env, sh, from, ignored, err, tc.want, tc.from)
		}
	}
}

func TestExplain(t *testing.T) {
	axes := []Axis{Strings("worker", "host", "containerd"), Strings("platform", "linux-amd64", "linux-arm64")}
	for expr, want := range map[string]string{
		"worker=contaienrd":       `worker=contaienrd: no value of axis "worker" matches; did you mean worker=containerd?`,
		"platform=linux-arm64x":   `platform=linux-arm64x: no value of axis "platform" matches; did you mean platform=linux-arm64?`,
		"platfrom=linux-arm64":    `platfrom=linux-arm64: there is no axis "platfrom"; did you mean platform?`,
		"worker=dockerd":          `worker=dockerd: no value of axis "worker" matches`,
		"worker=host,platform=s*": `platform=s*: no value of axis "platform" matches`,
		"worker=host":             "every term matches some value, but exclusions drop every cell",
	} {
		sel, err := ParseSelector(expr)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(sel.Explain(axes), "\n")
		if !strings.HasPrefix(got, want) || (!strings.Contains(want, "did you mean") && strings.Contains(got, "did you mean")) {
			t.Errorf("%s: %q, want %q", expr, got, want)
		}
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
