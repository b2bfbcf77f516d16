package box

import (
	"testing"

	"github.com/matrixbox/matrixbox/sandbox"
)

func TestStringSinceShowsOnlyWhatCameAfterTheMark(t *testing.T) {
	logs := sandbox.NewLogs()
	logs.Printf("d", "before")
	m := Mark(logs)
	logs.Printf("d", "after")
	logs.Printf("e", "new")
	want := "===== d (continued) =====\nafter\n===== e =====\nnew\n"
	if got := StringSince(logs, m); got != want {
		t.Errorf("StringSince = %q, want %q", got, want)
	}
	if got := StringSince(logs, Mark(logs)); got != "" {
		t.Errorf("StringSince of a fresh mark = %q, want nothing", got)
	}
}
