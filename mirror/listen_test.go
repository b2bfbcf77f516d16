package mirror

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A mirror told to listen elsewhere than 127.0.0.1 serves there: on a host
// of its own for a free port, or on a fixed port that two mirrors over the
// same directory (two test processes of one go test) share.
func TestMirrorListen(t *testing.T) {
	dir := t.TempDir()
	m := New(dir, WithListen("127.0.0.2"))
	t.Cleanup(func() { m.Close() })
	addr, err := m.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "127.0.0.2:") {
		t.Fatalf("address %s, want one on 127.0.0.2", addr)
	}
	ping(t, addr)

	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	fixed := ln.Addr().String()
	ln.Close()
	t.Setenv(EnvListen, fixed)
	for i := 0; i < 2; i++ {
		m := New(dir)
		t.Cleanup(func() { m.Close() })
		got, err := m.Start(context.Background())
		if err != nil {
			t.Fatalf("mirror %d on %s: %v", i+1, fixed, err)
		}
		if got != fixed {
			t.Errorf("mirror %d serves %s, want %s", i+1, got, fixed)
		}
	}
	ping(t, fixed)
}

func TestMirrorListenUnspecified(t *testing.T) {
	m := New(t.TempDir(), WithListen("0.0.0.0"))
	t.Cleanup(func() { m.Close() })
	addr, err := m.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("address %s, want the port on 127.0.0.1 for local daemons", addr)
	}
	ping(t, addr)
}

func TestMirrorListenBad(t *testing.T) {
	t.Setenv(EnvListen, "not an address")
	if _, err := New(t.TempDir()).Start(context.Background()); err == nil || !strings.Contains(err.Error(), EnvListen) {
		t.Errorf("Start: %v, want an error naming %s", err, EnvListen)
	}
	t.Setenv(EnvListen, "")
	if _, err := New(t.TempDir(), WithListen("x y")).Start(context.Background()); err == nil || !strings.Contains(err.Error(), "WithListen") {
		t.Errorf("Start: %v, want an error naming WithListen", err)
	}
}

func ping(t *testing.T, addr string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/v2/")
	if err != nil {
		t.Fatalf("GET /v2/ on %s: %v", addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ on %s: %s", addr, resp.Status)
	}
}

// A bad MATRIXBOX_MIRROR_DIR or MATRIXBOX_MIRROR_LISTEN fails Start with
// an error that names the variable and its value: a directory that cannot
// be made or written, an address of no interface here, a port out of
// range, a negative one.
func TestBadEnvironmentNamesTheVariable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, value string }{
		{EnvDir, file},
		{EnvDir, filepath.Join(file, "sub")},
		{EnvDir, "/proc/matrixbox-mirror"},
		{EnvListen, "192.0.2.1"},
		{EnvListen, "192.0.2.1:5000"},
		{EnvListen, "127.0.0.1:99999"},
		{EnvListen, "-1"},
		{EnvListen, "127.0.0.1:-1"},
		{EnvListen, "127.0.0.1:http"},
	} {
		t.Setenv(EnvDir, t.TempDir())
		t.Setenv(tc.name, tc.value)
		m := New("")
		_, err := m.Start(context.Background())
		m.Close()
		if err == nil || !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), tc.value) {
			t.Errorf("%s=%s: Start error %v, want one naming the variable and its value", tc.name, tc.value, err)
		}
	}
}
