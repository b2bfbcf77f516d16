package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// The tests in this file damage blobs of a real mirror directory, on disk,
// and check what Ensure, Verify and the mirror's server make of it. The
// image is the one the reproduction used: /bin/busybox as an image.

const testBusyboxTarget, testBusyboxSource = "library/busybox:latest", "binary:/bin/busybox"

func busyboxImages(t *testing.T) map[string]string {
	t.Helper()
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs a static /bin/busybox: apt-get install busybox-static")
	}
	return map[string]string{testBusyboxTarget: testBusyboxSource}
}

// ensure runs Ensure in a new Mirror over dir, as a new test process
// would, and returns it (closed when the test ends).
func ensure(t *testing.T, dir string, imgs map[string]string) *Mirror {
	t.Helper()
	m := newTestMirror(t, dir)
	if err := m.Ensure(context.Background(), imgs); err != nil {
		t.Fatal(err)
	}
	return m
}

// busyboxRecord returns the record of the busybox image in m.
func busyboxRecord(t *testing.T, m *Mirror) record {
	t.Helper()
	b, err := os.ReadFile(m.recordPath(mustTarget(t, testBusyboxTarget)))
	if err != nil {
		t.Fatal(err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func largest(rec record) blobRecord {
	big := rec.Blobs[0]
	for _, b := range rec.Blobs {
		if b.Size > big.Size {
			big = b
		}
	}
	return big
}

// damageInPlace flips one byte in the middle of the file at p, writing
// into the same inode so the size stays. With keepMtime it then sets the
// modification time back, as a restore by `cp -a` or tar keeps it.
func damageInPlace(t *testing.T, p string, keepMtime bool) {
	t.Helper()
	before, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	off := before.Size() / 2
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if keepMtime {
		if err := os.Chtimes(p, time.Time{}, before.ModTime()); err != nil {
			t.Fatal(err)
		}
		after, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
			t.Fatalf("damage of %s changed mtime or size: %v %d -> %v %d", p, before.ModTime(), before.Size(), after.ModTime(), after.Size())
		}
	}
}

// afterClockTick returns once the file system's clock is past every
// timestamp it gave in dir so far. A restore or a copy made in the very
// tick of a check is re-hashed by the next check (an identity is trusted
// only when its file's ctime is before the check began); waiting out the
// tick makes "then warm" exact. It waits on the file system's own clock,
// never on a duration.
func afterClockTick(t *testing.T, dir string) {
	t.Helper()
	ctime := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		id, ok := fileIDOf(fi)
		if !ok {
			t.Skip("file identities are read on Linux only")
		}
		return id.Ctime
	}
	mark := filepath.Join(dir, ".clock-mark")
	if err := os.WriteFile(mark, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(mark)
	then := ctime(mark)
	probe := filepath.Join(dir, ".clock-probe")
	defer os.Remove(probe)
	for {
		if err := os.WriteFile(probe, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if ctime(probe) > then {
			return
		}
		if err := os.Remove(probe); err != nil {
			t.Fatal(err)
		}
	}
}

// writeID records id as d's identity in m's directory.
func writeID(t *testing.T, m *Mirror, d digest.Digest, id fileID) {
	t.Helper()
	if err := os.WriteFile(m.blobs.idPath(d), []byte(id.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// get fetches /v2/<repo>/<kind>/<ref> from the registry at addr.
func get(t *testing.T, addr, repo, kind, ref string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/v2/"+repo+"/"+kind+"/"+ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestDamageRightAfterCopyIsCopiedAgain is the reproduction: copy,
// flip one byte of the largest blob at once (same size, same inode), Ensure
// in a new Mirror. Every round must copy the image again; with file times
// compared to a clock, one round in twenty did not.
func TestDamageRightAfterCopyIsCopiedAgain(t *testing.T) {
	imgs := busyboxImages(t)
	for round := range 20 {
		dir := t.TempDir()
		m := ensure(t, dir, imgs)
		big := largest(busyboxRecord(t, m))
		damageInPlace(t, m.blobPath(big.Digest), false)
		m2 := ensure(t, dir, imgs)
		if s := m2.Stats(); s.Copies != 1 || s.Hits != 0 {
			t.Fatalf("round %d: Ensure after damage: %+v, want the image copied again", round, s)
		}
		if err := m2.Verify(context.Background()); err != nil {
			t.Fatalf("round %d: after the copy: %v", round, err)
		}
		if err := errors.Join(m.Close(), m2.Close()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDamageWithMtimeRestoredIsCaught damages a blob whose identity a warm
// hit trusts, then sets its modification time back: size, inode and mtime
// are as recorded, only the ctime tells. The next Ensure must copy the
// image again, so that a client pulls intact bytes.
func TestDamageWithMtimeRestoredIsCaught(t *testing.T) {
	imgs := busyboxImages(t)
	dir := t.TempDir()
	m := ensure(t, dir, imgs)
	big := largest(busyboxRecord(t, m))
	afterClockTick(t, dir)
	ensure(t, dir, imgs) // settles what the copy recorded in its last tick
	if s := ensure(t, dir, imgs).Stats(); s.Hashed != 0 || s.Hits != 1 {
		t.Fatalf("warm Ensure before the damage: %+v, want a hit that hashes nothing", s)
	}

	damageInPlace(t, m.blobPath(big.Digest), true)
	m2 := ensure(t, dir, imgs)
	if s := m2.Stats(); s.Copies != 1 {
		t.Fatalf("Ensure after damage with the mtime restored: %+v, want the image copied again", s)
	}
	code, body := get(t, m2.Addr(), "library/busybox", "blobs", big.Digest.String())
	if code != http.StatusOK || digest.FromBytes(body) != big.Digest {
		t.Fatalf("pull of %s after the repair: %d, %d bytes hashing to %s", big.Digest, code, len(body), digest.FromBytes(body))
	}
}

// TestRestoredCopyIsHashedOnceThenWarm: a mirror directory copied with
// `cp -a` (new inodes and ctimes, same mtimes, identity files included) is
// hashed once by the first Ensure, then warm.
func TestRestoredCopyIsHashedOnceThenWarm(t *testing.T) {
	imgs := busyboxImages(t)
	dir := t.TempDir()
	rec := busyboxRecord(t, ensure(t, dir, imgs))
	restored := filepath.Join(t.TempDir(), "restored")
	if out, err := exec.Command("cp", "-a", dir, restored).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v: %s", err, out)
	}
	afterClockTick(t, restored)
	if s := ensure(t, restored, imgs).Stats(); s.Hits != 1 || s.Copies != 0 || s.Hashed != len(rec.Blobs) {
		t.Errorf("first Ensure of the restored copy: %+v, want a hit that hashes all %d blobs", s, len(rec.Blobs))
	}
	if s := ensure(t, restored, imgs).Stats(); s.Hits != 1 || s.Hashed != 0 {
		t.Errorf("second Ensure of the restored copy: %+v, want a hit that hashes nothing", s)
	}
}

// TestServerRefusesDamageAfterEnsure: damage made after Ensure, in the
// process that serves the image, is refused when a client asks for the blob
// (by digest, or a manifest by tag), named by Damaged, and repaired by the
// next Ensure.
func TestServerRefusesDamageAfterEnsure(t *testing.T) {
	imgs := busyboxImages(t)
	dir := t.TempDir()
	ensure(t, dir, imgs)
	afterClockTick(t, dir)
	m := ensure(t, dir, imgs)
	rec := busyboxRecord(t, m)
	big := largest(rec)
	hashed := m.Stats().Hashed
	if code, _ := get(t, m.Addr(), "library/busybox", "blobs", big.Digest.String()); code != http.StatusOK {
		t.Fatalf("GET of an intact blob: %d", code)
	}
	if s := m.Stats(); s.Hashed != hashed {
		t.Errorf("serving a blob whose identity matches hashed it: %+v", s)
	}

	since := time.Now()
	damageInPlace(t, m.blobPath(big.Digest), true)
	code, body := get(t, m.Addr(), "library/busybox", "blobs", big.Digest.String())
	if code != http.StatusInternalServerError || !strings.Contains(string(body), big.Digest.String()) {
		t.Fatalf("GET of the damaged blob: %d %q, want 500 naming it", code, body)
	}
	dmg := m.Damaged()
	if len(dmg) != 1 || dmg[0].Digest != big.Digest || dmg[0].Repo != "library/busybox" || !strings.HasPrefix(dmg[0].Reason, "hashes to sha256:") {
		t.Fatalf("Damaged() = %+v, want the blob, its repository and its hash", dmg)
	}
	if got := m.DamagedSince(since); len(got) != 1 || !strings.Contains(got[0], big.Digest.String()) {
		t.Errorf("DamagedSince = %q", got)
	}
	if got := m.DamagedSince(time.Now()); len(got) != 0 {
		t.Errorf("DamagedSince(now) = %q, want none", got)
	}
	if _, err := os.Stat(m.blobPath(big.Digest)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("damaged blob file not removed: %v", err)
	}
	if code, _ := get(t, m.Addr(), "library/busybox", "blobs", big.Digest.String()); code != http.StatusNotFound {
		t.Errorf("GET after removal: %d, want 404", code)
	}
	if err := m.Ensure(context.Background(), imgs); err != nil {
		t.Fatal(err)
	}
	if s := m.Stats(); s.Copies != 1 {
		t.Fatalf("Ensure after the refusal: %+v, want the image copied again", s)
	}
	if code, body := get(t, m.Addr(), "library/busybox", "blobs", big.Digest.String()); code != http.StatusOK || digest.FromBytes(body) != big.Digest {
		t.Fatalf("GET after the repair: %d, %d bytes", code, len(body))
	}

	// A manifest asked for by tag, as a daemon resolves an image.
	damageInPlace(t, m.blobPath(rec.Digest), true)
	if code, body := get(t, m.Addr(), "library/busybox", "manifests", "latest"); code != http.StatusInternalServerError || !strings.Contains(string(body), rec.Digest.String()) {
		t.Fatalf("GET of the damaged manifest by tag: %d %q, want 500 naming it", code, body)
	}
	if dmg := m.Damaged(); len(dmg) != 2 || dmg[1].Digest != rec.Digest {
		t.Fatalf("Damaged() = %+v, want the manifest last", dmg)
	}
	if err := m.Ensure(context.Background(), imgs); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, m.Addr(), "library/busybox", "manifests", "latest"); code != http.StatusOK || digest.FromBytes(body) != rec.Digest {
		t.Fatalf("GET of the manifest after the repair: %d %q", code, body)
	}
}

// TestVerifyRefreshesIdentities: Verify records the identity of every
// intact blob (a mirror without identities, as an older matrixbox left
// it, is warm afterwards) and drops that of a damaged one, so that damage
// no identity shows (bit rot) is repaired by the next Ensure once Verify
// has found it.
func TestVerifyRefreshesIdentities(t *testing.T) {
	imgs := busyboxImages(t)
	dir := t.TempDir()
	m := ensure(t, dir, imgs)
	rec := busyboxRecord(t, m)
	if err := os.RemoveAll(m.blobs.idDir); err != nil {
		t.Fatal(err)
	}
	afterClockTick(t, dir)
	v := newTestMirror(t, dir)
	if err := v.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := v.Stats(); s.Hashed != len(rec.Blobs) {
		t.Errorf("Verify hashed %d blobs, want %d", s.Hashed, len(rec.Blobs))
	}
	if s := ensure(t, dir, imgs).Stats(); s.Hashed != 0 || s.Hits != 1 {
		t.Errorf("Ensure after Verify: %+v, want a hit that hashes nothing", s)
	}

	// Bit rot: the content changes, the file's identity does not.
	big := largest(rec)
	damageInPlace(t, m.blobPath(big.Digest), true)
	fi, err := os.Stat(m.blobPath(big.Digest))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := fileIDOf(fi)
	id.Clock = id.Ctime + 1
	writeID(t, m, big.Digest, id)
	if s := ensure(t, dir, imgs).Stats(); s.Copies != 0 {
		t.Fatalf("rot under a matching identity: %+v; only Verify can see it", s)
	}
	err = newTestMirror(t, dir).Verify(context.Background())
	if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), big.Digest.String()) {
		t.Fatalf("Verify of the rotten blob: %v", err)
	}
	if _, err := os.Stat(m.blobs.idPath(big.Digest)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Verify left the identity of a damaged blob: %v", err)
	}
	if s := ensure(t, dir, imgs).Stats(); s.Copies != 1 {
		t.Errorf("Ensure after Verify found the rot: %+v, want the image copied again", s)
	}
}

// TestIdentityFromTheSameTickIsNotTrusted: an identity whose file's ctime
// is not before the check that recorded it is not trusted, since a write in
// that same clock tick would have left the ctime as recorded (file systems
// without fine-grained timestamps). The next check hashes the blob and
// records an identity that is.
func TestIdentityFromTheSameTickIsNotTrusted(t *testing.T) {
	imgs := busyboxImages(t)
	dir := t.TempDir()
	m := ensure(t, dir, imgs)
	big := largest(busyboxRecord(t, m))
	afterClockTick(t, dir)
	ensure(t, dir, imgs)
	id, ok := readID(m.blobs.idPath(big.Digest))
	if !ok || !id.settled() {
		t.Fatalf("identity of %s after a warm Ensure: %+v, %v; want a settled one", big.Digest, id, ok)
	}
	id.Clock = id.Ctime
	writeID(t, m, big.Digest, id)
	if s := ensure(t, dir, imgs).Stats(); s.Hashed != 1 || s.Hits != 1 {
		t.Errorf("Ensure over an identity from the blob's own tick: %+v, want that blob hashed", s)
	}
	if s := ensure(t, dir, imgs).Stats(); s.Hashed != 0 {
		t.Errorf("Ensure after the re-hash: %+v, want nothing hashed", s)
	}
}

// TestConcurrentPullsHashABlobOnce: clients asking at once for a blob this
// machine never verified share one read of it.
func TestConcurrentPullsHashABlobOnce(t *testing.T) {
	imgs := busyboxImages(t)
	dir := t.TempDir()
	rec := busyboxRecord(t, ensure(t, dir, imgs))
	big := largest(rec)
	if err := os.RemoveAll(filepath.Join(dir, "verified")); err != nil {
		t.Fatal(err)
	}
	afterClockTick(t, dir)
	m := newTestMirror(t, dir)
	addr, err := m.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Declared without Ensure, which would hash the blob itself.
	m.declare(rec)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Go(func() {
			resp, err := http.Head("http://" + addr + "/v2/library/busybox/blobs/" + big.Digest.String())
			if err != nil {
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("client %d: status %d", i, c)
		}
	}
	if s := m.Stats(); s.Hashed != 1 {
		t.Errorf("%d concurrent HEADs hashed the blob %d times, want once", len(codes), s.Hashed)
	}
}

// TestIdentityFileFormat: an identity reads back as written; anything else
// (a torn write, another format) is no identity, so its blob is hashed.
func TestIdentityFileFormat(t *testing.T) {
	id := fileID{Size: 4096, Dev: 2049, Ino: 1 << 40, Mtime: 1700000000123456789, Ctime: -1, Clock: 1700000000223456789}
	if got, ok := parseID(id.String()); !ok || got != id {
		t.Fatalf("parseID(%q) = %+v, %v", id.String(), got, ok)
	}
	for _, bad := range []string{"", id.String()[:40], `{"size":4096}`, strings.Replace(id.String(), "v1", "v2", 1), strings.Replace(id.String(), "ino=", "ino=x", 1)} {
		if got, ok := parseID(bad); ok {
			t.Errorf("parseID(%q) = %+v, want no identity", bad, got)
		}
	}
}
