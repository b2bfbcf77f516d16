package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/gofrs/flock"
)

// Append appends recs to the file at path, one JSON object a line, in a
// single write under an exclusive flock, so that the test processes of go
// test ./... may share one report.
func Append(path string, recs ...Record) (err error) {
	if len(recs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("report %s: %w", path, err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("report %s: %w", path, cerr)
		}
	}()
	lock := flock.New(path)
	if err := lock.Lock(); err != nil {
		return fmt.Errorf("report %s: lock: %w", path, err)
	}
	defer lock.Unlock()
	if _, err := f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return nil
}

// Read reads a report or plan file. A line that is not a record is an
// error naming the file and line.
func Read(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if r.Kind == "" {
			return nil, fmt.Errorf("%s:%d: not a matrixbox record (no kind)", path, n)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}
