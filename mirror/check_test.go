package mirror

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestCorruptBlobSameSizeIsCaughtAndRecopied damages a stored blob without
// changing its size, the case a size check cannot see: Verify must name it,
// and the next Ensure, in a new process (a new Mirror), must copy it again.
func TestCorruptBlobSameSizeIsCaughtAndRecopied(t *testing.T) {
	dir := t.TempDir()
	imgs := map[string]string{"library/busybox:latest": "binary:/bin/busybox"}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs a static /bin/busybox: apt-get install busybox-static")
	}
	m := New(dir)
	defer m.Close()
	if err := m.Ensure(context.Background(), imgs); err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(context.Background()); err != nil {
		t.Fatalf("fresh mirror: %v", err)
	}
	rec, ok := m.present(mustTarget(t, "library/busybox:latest"), "binary:/bin/busybox", fingerprintOf(t, "binary:/bin/busybox"))
	if !ok {
		t.Fatal("image not recorded")
	}
	// The largest blob is the layer; flip one byte in its middle.
	big := rec.Blobs[0]
	for _, b := range rec.Blobs {
		if b.Size > big.Size {
			big = b
		}
	}
	p := m.blobPath(big.Digest)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	err = m.Verify(context.Background())
	if err == nil || !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), big.Digest.String()) {
		t.Fatalf("Verify of a damaged mirror: %v", err)
	}
	m2 := New(dir)
	defer m2.Close()
	if err := m2.Ensure(context.Background(), imgs); err != nil {
		t.Fatal(err)
	}
	if s := m2.Stats(); s.Copies != 1 {
		t.Fatalf("second process stats %+v: want the damaged image copied again", s)
	}
	if err := m2.Verify(context.Background()); err != nil {
		t.Fatalf("after the re-copy: %v", err)
	}
}

func TestLockTimeoutFromEnvironment(t *testing.T) {
	t.Setenv(EnvLockTimeout, "soon")
	m := New(t.TempDir())
	if _, err := m.Start(context.Background()); err == nil || !strings.Contains(err.Error(), EnvLockTimeout) {
		t.Fatalf("Start with a bad %s: %v", EnvLockTimeout, err)
	}
}

func fingerprintOf(t *testing.T, src string) string {
	t.Helper()
	s, err := parseSource("x:1", src)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := s.fingerprint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fp
}
