package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
)

// Strict mode (MATRIXBOX_STRICT=1, or strict: true in matrixbox.yaml) is
// for CI, where a run that tests nothing must not pass: a worker that is
// unavailable (admit), a selection or shard that keeps no case (judgePlan)
// and a Run of which no case ran (judgeRan) fail instead of passing
// quietly. Without it, a selection that keeps nothing is still said in the
// default output of go test, not only with -v.

// judgePlan says why a Run has no case to run, failing the Run for it in
// strict mode.
func (s settings) judgePlan(t *testing.T, p *plan) {
	t.Helper()
	switch {
	case p.selected == 0:
		msg := emptySelection(s.selector, p)
		if s.strict {
			t.Fatalf("matrixbox: strict mode (%s=1 or strict: true): %s", EnvStrict, msg)
		}
		t.Log("matrixbox: " + msg)
		// Also on stderr: go test prints a passing test's log only with -v,
		// and a typo in a selection would otherwise pass in silence.
		fmt.Fprintf(os.Stderr, "matrixbox: %s: %s\n", t.Name(), msg)
	case len(p.cases) == 0 && p.selected < s.shard.Count:
		t.Logf("matrixbox: shard %s holds none of the %d cases of this Run: it has fewer cases than there are shards", s.shard, p.selected)
	case len(p.cases) == 0:
		msg := fmt.Sprintf("shard %s (from %s) holds none of the %d cases of this Run", s.shard, s.shardFrom, p.selected)
		if s.strict {
			t.Fatalf("matrixbox: strict mode (%s=1 or strict: true): %s", EnvStrict, msg)
		}
		t.Log("matrixbox: " + msg)
	}
}

// judgeRan fails, in strict mode, a Run that had cases to run of which
// none ran: go test's -run or -skip matched none of them.
func (s settings) judgeRan(t *testing.T, p *plan, ran int) {
	t.Helper()
	if s.strict && ran == 0 && len(p.cases) > 0 {
		t.Errorf("matrixbox: strict mode (%s=1 or strict: true): none of the %d cases of this Run ran: go test's -run or -skip matched none of them (e.g. %s/%s)",
			EnvStrict, len(p.cases), t.Name(), p.cases[0].name)
	}
}

// emptySelection says why no cell was selected: what each axis has and,
// for a term that matches nothing, what it may have meant.
func emptySelection(sel matrix.Selector, p *plan) string {
	var b strings.Builder
	if sel.Empty() {
		b.WriteString("the exclusions drop every cell of this Run")
	} else {
		fmt.Fprintf(&b, "the selection %q (%s or select: in matrixbox.yaml) matches none of the %d cases of this Run", sel.String(), envSelect, p.total)
		for _, line := range sel.Explain(p.axes) {
			b.WriteString("\n\t" + line)
		}
	}
	b.WriteString("\n\tthe axes of this Run:")
	for _, a := range p.axes {
		names := make([]string, len(a.Values))
		for i, v := range a.Values {
			names[i] = v.Name
		}
		fmt.Fprintf(&b, "\n\t\t%s: %s", a.Name, strings.Join(names, ", "))
	}
	return b.String()
}
