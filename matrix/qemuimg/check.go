package qemuimg

import "testing"

// Check compares live output with a baseline under p, the way a test wants
// it: skips and known divergences are logged, unexplained differences fail
// t with a diff naming both versions. It returns the report (its OK says
// whether they agreed), for [Policy.Stale] once the suite's comparisons
// are done.
func Check(t testing.TB, p Policy, name string, baseline Version, baselineOut []byte, live Version, liveOut []byte) Report {
	t.Helper()
	r, err := p.Compare(name, baseline, baselineOut, live, liveOut)
	if err != nil {
		t.Error(err)
		return r
	}
	for _, s := range r.Skipped {
		t.Log(s)
	}
	for _, k := range r.Known {
		t.Log(k)
	}
	if err := r.Err(); err != nil {
		t.Error(err)
	}
	return r
}
