package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/matrixbox/matrixbox/report"
)

// The JUnit XML that gotestsum writes, element for element, so that a CI
// system reads matrixbox's file as it reads gotestsum's: one testsuite per
// package, one testcase per case named by its full subtest path, the
// case's worker and axis values as properties (gotestsum's rendering of
// t.Attr), a failure with the case's output, a skip with its reason.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Name       string          `xml:"name,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitCase struct {
	Classname  string          `xml:"classname,attr"`
	Name       string          `xml:"name,attr"`
	Time       string          `xml:"time,attr"`
	Skipped    *junitSkipped   `xml:"skipped,omitempty"`
	Failure    *junitFailure   `xml:"failure,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitFailure struct {
	Message  string `xml:"message,attr"`
	Type     string `xml:"type,attr"`
	Contents string `xml:",chardata"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

func seconds(ms float64) string { return fmt.Sprintf("%f", ms/1000) }

// writeJUnit writes the merged results as JUnit XML. A quarantined case is
// a skip, as go test reports it, whose message carries the tracking issue.
func writeJUnit(w io.Writer, res *results) error {
	byPkg := map[string]*junitSuite{}
	start := map[string]time.Time{}
	msOf := map[string]float64{}
	var doc junitSuites
	for _, g := range res.groups {
		s := byPkg[g.Package]
		if s == nil {
			s = &junitSuite{Name: g.Package}
			if g.GoVersion != "" {
				s.Properties = []junitProperty{{Name: "go.version", Value: g.GoVersion}}
			}
			byPkg[g.Package] = s
		}
		for _, r := range g.sortedCases() {
			c := junitCase{Classname: r.Package, Name: r.Case, Time: seconds(r.DurationMS), Properties: caseProperties(r)}
			switch r.Status {
			case report.StatusFail:
				c.Failure = &junitFailure{Message: "Failed", Contents: failureText(r)}
				s.Failures++
			case report.StatusSkip, report.StatusQuarantined:
				c.Skipped = &junitSkipped{Message: skipText(r)}
				s.Skipped++
			}
			s.Tests++
			s.Cases = append(s.Cases, c)
			msOf[g.Package] += r.DurationMS
			if t := start[g.Package]; t.IsZero() || r.Time.Before(t) {
				start[g.Package] = r.Time
			}
		}
	}
	pkgs := make([]string, 0, len(byPkg))
	for p := range byPkg {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	var total float64
	for _, p := range pkgs {
		s := byPkg[p]
		s.Time = seconds(msOf[p])
		total += msOf[p]
		if t := start[p]; !t.IsZero() {
			s.Timestamp = t.UTC().Format(time.RFC3339)
		}
		doc.Suites = append(doc.Suites, *s)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
	}
	doc.Time = seconds(total)
	out, err := xml.MarshalIndent(doc, "", "\t")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// caseProperties are the worker and the axis values, in the cell's order.
func caseProperties(r report.Record) []junitProperty {
	var ps []junitProperty
	for _, term := range strings.Split(r.Cell, "/") {
		if axis, value, ok := strings.Cut(term, "="); ok {
			ps = append(ps, junitProperty{Name: axis, Value: value})
		}
	}
	return ps
}

func skipText(r report.Record) string {
	if r.Status == report.StatusQuarantined && r.Quarantine != nil {
		return fmt.Sprintf("quarantined: %s (%s), %d attempts", r.Quarantine.Reason, r.Quarantine.URL, r.Attempts)
	}
	return r.SkipReason
}

func failureText(r report.Record) string {
	if r.Output != "" {
		return r.Output
	}
	var b strings.Builder
	for i, a := range r.AttemptLog {
		fmt.Fprintf(&b, "attempt %d: %s\n%s\n", i+1, a.Status, a.Error)
	}
	if b.Len() == 0 {
		return "failed: the case's output is in the go test output (a verbose run prints it there instead of keeping it for the record)"
	}
	return b.String()
}
