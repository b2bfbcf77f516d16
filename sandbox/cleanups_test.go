package sandbox

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
)

func TestCleanupsRunInReverseAndNameEveryError(t *testing.T) {
	var c Cleanups
	var order []string
	c.Add("first", func() error { order = append(order, "first"); return errors.New("one") })
	c.Add("second", func() error { order = append(order, "second"); return nil })
	c.Add("third", func() error { order = append(order, "third"); return errors.New("three") })
	err := c.Run()
	if want := []string{"third", "second", "first"}; !slices.Equal(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
	if err == nil || err.Error() != "third: three\nfirst: one" {
		t.Errorf("Run() = %v, want each error under its name, last added first", err)
	}
	if err := c.Run(); err != nil || len(order) != 3 {
		t.Errorf("a second Run ran something again (%v, %v)", err, order)
	}
}

// plain wraps a Sandbox and forwards nothing but its methods.
type plain struct{ Sandbox }

// forwarding wraps a Sandbox and forwards its capabilities too.
type forwarding struct{ *Box }

func TestWrappersKeepWhatTheyForward(t *testing.T) {
	b, err := Open(context.Background(), Spec{Config: Config{Cell: cellOf(t, matrix.Strings("worker", "host"))}, Worker: hostWorker{}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Logs().Printf("daemon", "up")

	if got := (forwarding{b}).Logs().Text("daemon"); got != "up\n" {
		t.Errorf("through a forwarding wrapper: %q", got)
	}
	if BackendOf(forwarding{b}) == nil {
		t.Error("a forwarding wrapper lost the backend")
	}
	// A wrapper that embeds the Sandbox interface alone keeps the logs.
	if got := (plain{b}).Logs().Text("daemon"); got != "up\n" {
		t.Errorf("through a plain wrapper: %q", got)
	}
	(plain{b}).Logs().Printf("test", "added")
	if !strings.Contains(b.Logs().String(), "===== test =====\nadded\n") {
		t.Errorf("a log added through a plain wrapper is not the box's:\n%s", b.Logs().String())
	}
}
