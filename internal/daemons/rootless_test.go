package daemons

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFirstFreeSubIDs(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		want int
	}{
		{"empty", "", 100000},
		{"comments and junk", "# c\nbad line\nx:1:0\n", 100000},
		{"taken from the start", "alice:100000:65536\n", 165536},
		{"a gap too small", "alice:100000:65536\nbob:165537:65536\n", 231073},
		{"a gap that fits", "alice:100000:65536\nbob:300000:65536\n", 165536},
		{"out of order", "bob:165536:65536\nalice:100000:65536\n", 231072},
		{"below the minimum", "root:1000:5000\n", 100000},
	} {
		rs, err := parseSubIDs(strings.NewReader(tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if got := firstFree(rs, subIDMin, SubIDCount); got != tc.want {
			t.Errorf("%s: first free range at %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestSubIDsByNameOrUID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "subuid")
	if err := os.WriteFile(path, []byte("matrixbox:100000:65536\n999:200000:10\nother:300000:65536\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := SubIDs(path, "matrixbox", "999"); err != nil || n != 65546 {
		t.Errorf("SubIDs = %d, %v; want 65546 (a line by name and one by uid)", n, err)
	}
	if n, err := SubIDs(filepath.Join(t.TempDir(), "none"), "matrixbox", "999"); err != nil || n != 0 {
		t.Errorf("SubIDs of a missing file = %d, %v; want 0, nil", n, err)
	}
}

// TestSetupRootlessUser runs the set-up step with useradd and usermod
// on copies of this machine's /etc files (their --prefix): the first run
// makes the user and gives it ranges that overlap no one's, the second
// keeps them and says so.
func TestSetupRootlessUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("useradd --prefix needs root")
	}
	for _, tool := range []string{"useradd", "usermod"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	prefix := t.TempDir()
	etc := filepath.Join(prefix, "etc")
	if err := os.Mkdir(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	// The machine's users, less RootlessUser if install made it already.
	for _, f := range []string{"passwd", "group", "shadow", "gshadow", "login.defs"} {
		b, err := os.ReadFile(filepath.Join("/etc", f))
		if err != nil {
			t.Skipf("no /etc/%s to copy: %v", f, err)
		}
		var keep []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(l, RootlessUser+":") {
				keep = append(keep, l)
			}
		}
		if err := os.WriteFile(filepath.Join(etc, f), []byte(strings.Join(keep, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Someone holds the first range already.
	for _, f := range []string{"subuid", "subgid"} {
		if err := os.WriteFile(filepath.Join(etc, f), []byte("alice:100000:65536\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var log bytes.Buffer
	in := &Installer{Log: &log}
	if err := in.setupRootlessUser(context.Background(), prefix); err != nil {
		t.Fatalf("first run: %v\n%s", err, log.String())
	}
	u, found, err := lookupPasswd(filepath.Join(etc, "passwd"), RootlessUser)
	if err != nil || !found {
		t.Fatalf("no user %s after the first run (%v):\n%s", RootlessUser, err, log.String())
	}
	for _, f := range []string{"subuid", "subgid"} {
		b, _ := os.ReadFile(filepath.Join(etc, f))
		if want := "alice:100000:65536\n" + RootlessUser + ":165536:65536\n"; string(b) != want {
			t.Errorf("%s after the first run:\n%s\nwant:\n%s", f, b, want)
		}
	}
	for _, want := range []string{"made the user " + RootlessUser, "gave " + RootlessUser + " the subordinate uids 165536-231071", "gave " + RootlessUser + " the subordinate gids 165536-231071"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the first run did not say %q:\n%s", want, log.String())
		}
	}

	log.Reset()
	if err := in.setupRootlessUser(context.Background(), prefix); err != nil {
		t.Fatalf("second run: %v\n%s", err, log.String())
	}
	if again, _, _ := lookupPasswd(filepath.Join(etc, "passwd"), RootlessUser); again != u {
		t.Errorf("the second run changed the user: %+v, was %+v", again, u)
	}
	for _, f := range []string{"subuid", "subgid"} {
		if b, _ := os.ReadFile(filepath.Join(etc, f)); strings.Count(string(b), RootlessUser+":") != 1 {
			t.Errorf("%s after the second run:\n%s", f, b)
		}
	}
	for _, want := range []string{"the user " + RootlessUser + " of the rootless workers is there", RootlessUser + " has 65536 subordinate uids", RootlessUser + " has 65536 subordinate gids"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the second run did not say %q:\n%s", want, log.String())
		}
	}
}
