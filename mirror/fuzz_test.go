package mirror

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzParseTarget: a target name is either an error that quotes it or a
// target whose repository path is usable in the registry (no empty element,
// no upper case, the host prefix applied).
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"busybox", "library/busybox:latest", "ghcr.io/o/n:1", "localhost:5000/a/b@sha256:" + strings.Repeat("a", 64), "UPPER/x", ":", "a//b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		tg, err := parseTarget(name)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
				t.Fatalf("error %q does not name the target", err)
			}
			return
		}
		if tg.repo == "" || strings.Contains(tg.repo, "//") || strings.ToLower(tg.repo) != tg.repo {
			t.Fatalf("target %q gave repository %q", name, tg.repo)
		}
		if !strings.HasPrefix(tg.repo, RepoPrefix(tg.host)) {
			t.Fatalf("target %q: repository %q lacks the prefix of host %q", name, tg.repo, tg.host)
		}
	})
}

// FuzzParseSource: every source string parses or fails with an error; an
// accepted one has a description that names it.
func FuzzParseSource(f *testing.F) {
	for _, s := range []string{"recipe:busybox", "recipe:debian:12?packages=qemu-utils", "recipe:debian:99", "oci-layout:/x@ref", "docker-archive:/a.tar", "binary:/bin/true", "rootfs:/", "docker.io/library/busybox:1", "recipe:busybox?arch=arm64", "recipe:", "%%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, err := parseSource("x:1", s)
		if err != nil || s == "" {
			return
		}
		if src.String() == "" {
			t.Fatalf("source %q has an empty description", s)
		}
	})
}
