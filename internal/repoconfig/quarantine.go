package repoconfig

import (
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/matrixbox/matrixbox/matrix"
)

// maxRetries bounds the retries of a quarantined case.
const maxRetries = 10

// Quarantine is one quarantined set of cases: those whose test matches Test
// (a glob on the test's name, e.g. "TestEcho", or on its full path under the
// Run, e.g. "TestSuite/TestEcho") and whose cell matches Cells.
type Quarantine struct {
	Test    string
	Cells   matrix.Selector
	URL     string
	Reason  string
	Retries int
	// Line is where the entry starts in the config file.
	Line int
}

// Matches reports whether the case of test (its name), under parent (the
// name of the test that called Run), in cell c is quarantined by q.
func (q Quarantine) Matches(parent, test string, c matrix.Cell) bool {
	if q.Test != "" && !matrix.Glob(q.Test, test) && !matrix.Glob(q.Test, parent+"/"+test) {
		return false
	}
	return q.Cells.Match(c)
}

func (p parser) quarantines(fc *File, v *yaml.Node) error {
	if v.Kind != yaml.SequenceNode {
		return p.errf(v, "quarantine", "want a list of entries with test/cells, url and reason")
	}
	for i, e := range v.Content {
		q, err := p.quarantine(e, fmt.Sprintf("quarantine[%d]", i))
		if err != nil {
			return err
		}
		fc.Quarantine = append(fc.Quarantine, q)
	}
	return nil
}

func (p parser) quarantine(n *yaml.Node, where string) (Quarantine, error) {
	q := Quarantine{Line: n.Line}
	err := p.mapping(n, where, func(key string, k, v *yaml.Node) error {
		full := where + "." + key
		switch key {
		case "test":
			return p.quarantineTest(&q, v, full)
		case "cells":
			cells, err := p.scalar(v, full)
			if err == nil {
				if q.Cells, err = matrix.ParseSelector(cells); err != nil {
					err = p.errf(v, full, "%v", err)
				}
			}
			return err
		case "url":
			return p.quarantineURL(&q, v, full)
		case "reason":
			var err error
			if q.Reason, err = p.scalar(v, full); err == nil && strings.TrimSpace(q.Reason) == "" {
				err = p.errf(v, full, "empty reason")
			}
			return err
		case "retries":
			var err error
			if q.Retries, err = p.int(v, full); err == nil && (q.Retries < 0 || q.Retries > maxRetries) {
				err = p.errf(v, full, "%d: want 0 to %d", q.Retries, maxRetries)
			}
			return err
		}
		return p.errf(k, full, "unknown key (known: test, cells, url, reason, retries)")
	})
	if err != nil {
		return q, err
	}
	switch {
	case q.Test == "" && q.Cells.Empty():
		return q, p.errf(n, where, "give test or cells (or both): an entry matching everything would hide every failure")
	case q.URL == "":
		return q, p.errf(n, where, "url is required: a quarantine without a tracking issue is never lifted")
	case q.Reason == "":
		return q, p.errf(n, where, "reason is required")
	}
	return q, nil
}

func (p parser) quarantineTest(q *Quarantine, v *yaml.Node, key string) error {
	var err error
	q.Test, err = p.scalar(v, key)
	if err == nil && (q.Test == "" || strings.ContainsAny(q.Test, " \t")) {
		err = p.errf(v, key, "%q is not a test name or glob", q.Test)
	}
	return err
}

func (p parser) quarantineURL(q *Quarantine, v *yaml.Node, key string) error {
	var err error
	if q.URL, err = p.scalar(v, key); err != nil {
		return err
	}
	u, perr := url.Parse(q.URL)
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return p.errf(v, key, "%q is not an http(s) URL of the tracking issue", q.URL)
	}
	return nil
}
