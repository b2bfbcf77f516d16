package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// binfmtStatePath records the handlers a WithoutEmulation switched off,
// and its pid, so that a later lock holder switches them back on if that
// process died before its cleanup ran.
const binfmtStatePath = BinfmtLockPath + ".disabled"

type binfmtState struct {
	PID      int      `json:"pid"`
	Handlers []string `json:"handlers"`
}

// WithoutEmulation switches off, until t ends, every enabled binfmt_misc
// handler that would run p's binaries, so that nothing started meanwhile
// (a buildkitd probing its platforms, a RUN step) can execute code of p.
// It holds the binfmt_misc lock exclusively for that time: keep the window
// short, other test processes wait in [LockBinfmt]. It skips t when not
// root, and fails it when p runs natively (there is nothing to take away)
// or when emulation is still there afterwards.
func WithoutEmulation(t testing.TB, p Platform) {
	t.Helper()
	m := thisMachine()
	if ok, _ := m.native(p); ok || p.Architecture == m.arch {
		t.Fatalf("WithoutEmulation(%s): %s runs natively on this machine, no emulation to take away", Format(p), Format(p))
	}
	if os.Geteuid() != 0 {
		t.Skipf("WithoutEmulation(%s) switches binfmt_misc handlers off, which needs root", Format(p))
	}
	l, err := lockBinfmt(true)
	if err != nil {
		t.Fatal(err)
	}
	var off []string
	t.Cleanup(func() {
		for _, h := range off {
			if err := writeBinfmt(h, "1"); err != nil {
				t.Errorf("switch binfmt_misc %s back on: %v", h, err)
			}
		}
		if err := os.Remove(binfmtStatePath); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Error(err)
		}
		if err := l.Unlock(); err != nil {
			t.Errorf("unlock %s: %v", BinfmtLockPath, err)
		}
	})
	id := archELF[p.Architecture]
	entries, err := m.binfmtEntries()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("WithoutEmulation(%s): %v", Format(p), err)
	}
	var todo []string
	for _, e := range entries {
		if e.enabled && e.matches(id) {
			todo = append(todo, e.name)
		}
	}
	if len(todo) > 0 {
		// Recorded before anything is switched off: a crash in between
		// leaves a record that is merely redundant.
		b, _ := json.Marshal(binfmtState{PID: os.Getpid(), Handlers: todo})
		if err := os.WriteFile(binfmtStatePath, b, 0o644); err != nil {
			t.Fatalf("WithoutEmulation(%s): %v", Format(p), err)
		}
	}
	for _, h := range todo {
		if err := writeBinfmt(h, "0"); err != nil {
			t.Fatalf("WithoutEmulation(%s): switch binfmt_misc %s off: %v", Format(p), h, err)
		}
		off = append(off, h)
	}
	if _, err := m.emulated(p); err == nil {
		t.Fatalf("WithoutEmulation(%s): still emulated after switching off %v", Format(p), off)
	}
	if len(off) > 0 {
		t.Logf("binfmt_misc %v switched off until the test ends", off)
	}
}

func writeBinfmt(handler, v string) error {
	return os.WriteFile(filepath.Join("/", binfmtDir, handler), []byte(v), 0)
}

// repairBinfmt switches back on the handlers recorded by a WithoutEmulation
// whose process is gone. The caller holds the lock, so the record's owner,
// which removes it before giving the lock up, is dead.
func repairBinfmt() error {
	b, err := os.ReadFile(binfmtStatePath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("binfmt_misc state: %w", err)
	}
	var st binfmtState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("binfmt_misc state %s: %w", binfmtStatePath, err)
	}
	for _, h := range st.Handlers {
		if err := writeBinfmt(h, "1"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("switch binfmt_misc %s back on (left off by pid %d): %w", h, st.PID, err)
		}
	}
	if err := os.Remove(binfmtStatePath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
