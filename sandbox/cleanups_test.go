package sandbox

import (
	"errors"
	"slices"
	"testing"
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
