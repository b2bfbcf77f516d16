package workers

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/box"
	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// openBoxErr opens a sandbox on w and returns the error of its start,
// closing it if it started.
func openBoxErr(t *testing.T, w sandbox.Worker) error {
	t.Helper()
	if err := w.(sandbox.Checker).Check(); err != nil {
		t.Skipf("worker %s unavailable: %v", w.Name(), err)
	}
	cells, err := matrix.Expand(matrix.Strings("worker", w.Name()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := box.Open(context.Background(), box.Spec{Config: sandbox.Config{Cell: cells[0]}, Worker: w})
	if err == nil {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	return err
}

// TestDockerdChecksItsVersion: a cell whose dockerd does not report the
// cell's version in /version fails to start, saying both. The table is
// given a release, v21.0, whose binary is Debian's 20.10.
func TestDockerdChecksItsVersion(t *testing.T) {
	saved := daemons.Table
	t.Cleanup(func() { daemons.Table = saved })
	daemons.Table = append(slices.Clone(saved), daemons.Release{
		Component: daemons.Moby, Version: "v21.0", Set: daemons.SetAll, Package: "docker.io",
		Binaries: []daemons.Binary{{Name: "dockerd", Package: "/usr/sbin/dockerd"}}, Containerd: "v1.6",
	})
	err := openBoxErr(t, at(Dockerd(), "moby=v21.0"))
	if err == nil || !strings.Contains(err.Error(), `dockerd reports version "20.10.`) || !strings.Contains(err.Error(), "not v21.0, the version of its cell") {
		t.Errorf("start = %v, want the version mismatch", err)
	}
}

// TestDockerdChecksItsImageStore: a dockerd that runs another image store
// than its worker's fails to start, saying which. The fault: a wrapper
// (a fake for this test alone) that says it is dockerd 20.10, so that the
// worker does not turn off moby 29's default containerd store, and runs
// moby 29.
func TestDockerdChecksItsImageStore(t *testing.T) {
	cur := daemons.Default(daemons.Moby)
	if cur.Installed() != nil {
		t.Skipf("moby %s is not installed", cur.Version)
	}
	wrapper := filepath.Join(t.TempDir(), "dockerd")
	script := "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'Docker version 20.10.0, build fake'; exit 0; }\nexec " + cur.Path("dockerd") + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	err := openBoxErr(t, Dockerd(WithBinary(wrapper)))
	if want := `dockerd runs the containerd image store (storage driver overlayfs), not the classic one of worker "dockerd"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("start = %v, want %q", err, want)
	}
}

// TestDockerStateConcurrently: reading a dockerd's state from many
// goroutines at once, as two workers of a Run do when they reach one
// remote dockerd (TestRemoteDockerd failed so, once), never meets
// dockerd 20.10's refusal of a second /system/df while one runs ("a disk
// usage operation is already running").
func TestDockerStateConcurrently(t *testing.T) {
	b := openBox(t, Dockerd(WithVersions(MobyAxis, "v20.10")))
	defer b.Close()
	api := newDockerAPI(strings.TrimPrefix(DockerAddress(b), "unix://"))
	errs := make(chan error, 16)
	for range cap(errs) {
		go func() {
			var err error
			for range 20 {
				if _, err = api.state(b.Context()); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
