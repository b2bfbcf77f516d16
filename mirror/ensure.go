package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	clog "github.com/containerd/log"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
)

// record is the marker of an image present in the mirror. It is written
// (atomically) only after every blob and manifest was pushed and checked,
// so its presence is the proof of a complete copy.
type record struct {
	Target      string         `json:"target"`
	Host        string         `json:"host"`
	Repo        string         `json:"repo"`
	Tag         string         `json:"tag"`
	Source      string         `json:"source"`
	Fingerprint string         `json:"fingerprint,omitempty"`
	Pinned      string         `json:"pinned,omitempty"`
	Digest      digest.Digest  `json:"digest"`
	MediaType   string         `json:"mediaType"`
	Blobs       []blobRecord   `json:"blobs"`
	CopiedAt    time.Time      `json:"copiedAt"`
	PID         int            `json:"pid"`
	Extra       map[string]any `json:"extra,omitempty"`
}

type blobRecord struct {
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
}

// copyEntry is one line of copies.log: the log of every copy ever made into
// the directory (tests count these lines).
type copyEntry struct {
	Time   time.Time     `json:"time"`
	PID    int           `json:"pid"`
	Target string        `json:"target"`
	Source string        `json:"source"`
	Digest digest.Digest `json:"digest"`
	Bytes  int64         `json:"bytes"`
}

// Ensure makes images (target name → source) present in the mirror. Images
// already present (marker written and every blob intact) cost a stat and a
// small read per blob, a hash of any blob whose file changed since this
// machine last checked it, and no copy; the others (a damaged blob makes
// its image absent) are copied under the directory's exclusive lock, one
// at a time across all processes, and recorded only once complete. Bad
// targets or sources are reported before anything is copied.
func (m *Mirror) Ensure(ctx context.Context, imgs map[string]string) error {
	type job struct {
		t   target
		src source
	}
	var jobs []job
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(imgs)) {
		t, err := parseTarget(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		src, err := parseSource(name, imgs[name])
		if err != nil {
			errs = append(errs, fmt.Errorf("target %s: %w", name, err))
			continue
		}
		jobs = append(jobs, job{t, src})
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	if _, err := m.Start(ctx); err != nil {
		return err
	}
	m.sweepStale()
	ctx = m.quietContext(ctx)
	m.mu.Lock()
	for _, j := range jobs {
		m.hosts[j.t.host] = true
	}
	m.mu.Unlock()
	for _, j := range jobs {
		if err := m.ensureOne(ctx, j.t, j.src); err != nil {
			return fmt.Errorf("mirror %s from %s: %w", j.t.name, j.src, err)
		}
	}
	return nil
}

func (m *Mirror) ensureOne(ctx context.Context, t target, src source) error {
	fp, err := src.fingerprint(ctx)
	if err != nil {
		return err
	}
	if rec, ok := m.present(t, src.String(), fp); ok {
		m.count(func(s *Stats) { s.Hits++ })
		m.declare(rec)
		return nil
	}
	// Resolve before taking the lock: a recipe may build for minutes under
	// its own lock and should not hold up copies of other images.
	r, err := src.resolve(ctx, m)
	if err != nil {
		return err
	}
	if r.close != nil {
		defer r.close()
	}
	lock, err := lockFile(ctx, m.lockPath(), m.lockTimeout, fmt.Sprintf("copying %s into the mirror", t.name))
	if err != nil {
		return err
	}
	defer lock.unlock()
	// Another process may have copied it while we waited.
	if rec, ok := m.present(t, src.String(), fp); ok {
		m.count(func(s *Stats) { s.Hits++ })
		m.declare(rec)
		return nil
	}
	if err := m.cleanStale(); err != nil {
		return err
	}
	prov := verifyingProvider{Provider: r.provider, source: src.String()}
	blobs, err := closure(ctx, prov, r.desc)
	if err != nil {
		return err
	}
	// A damaged blob file (wrong size or wrong content) would be taken as
	// present by the registry: check removes it so the push writes it
	// again.
	store, err := m.store()
	if err != nil {
		return err
	}
	for _, b := range blobs {
		err := store.check(b.Digest, b.Size)
		switch {
		case err == nil || errors.Is(err, fs.ErrNotExist):
		case errors.Is(err, ErrDigestMismatch):
			m.logf("mirror: %v; removed it to copy it again", err)
		default:
			return err
		}
	}
	if err := m.writer.put(ctx, t.repo, t.tag, r.desc, prov); err != nil {
		return err
	}
	rec := record{
		Target: t.name, Host: t.host, Repo: t.repo, Tag: t.tag,
		Source: src.String(), Fingerprint: fp, Pinned: r.pinned,
		Digest: r.desc.Digest, MediaType: r.desc.MediaType, Blobs: blobs,
		CopiedAt: time.Now().UTC(), PID: os.Getpid(),
	}
	if bad := m.missing(rec); bad != "" {
		return fmt.Errorf("after push: %s", bad)
	}
	for _, b := range blobs {
		if err := store.noteCommitted(b.Digest); err != nil {
			m.logf("mirror: %v", err)
		}
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(m.recordPath(t), b); err != nil {
		return err
	}
	m.declare(rec)
	var total int64
	for _, b := range blobs {
		total += b.Size
	}
	m.count(func(s *Stats) { s.Copies++; s.Bytes += total })
	return m.logCopy(copyEntry{Time: rec.CopiedAt, PID: rec.PID, Target: t.name, Source: src.String(), Digest: rec.Digest, Bytes: total})
}

func (m *Mirror) count(f func(*Stats)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(&m.stats)
}

// present reads t's marker and checks that it answers src, that its tag
// points at its manifest and that every blob it lists is intact: a stat per
// blob whose file matches its recorded identity, a hash of any other. A
// damaged blob is removed, so the copy that follows writes it again.
func (m *Mirror) present(t target, src, fp string) (record, bool) {
	b, err := os.ReadFile(m.recordPath(t))
	if err != nil {
		return record{}, false
	}
	var rec record
	if json.Unmarshal(b, &rec) != nil || rec.Source != src || rec.Fingerprint != fp {
		return record{}, false
	}
	if m.untagged(rec) != "" {
		return rec, false
	}
	store, err := m.store()
	if err != nil {
		return rec, false
	}
	for _, b := range rec.Blobs {
		if err := store.check(b.Digest, b.Size); err != nil {
			if errors.Is(err, ErrDigestMismatch) {
				m.logf("mirror: image %s: %v; removed it to copy the image again", rec.Target, err)
			}
			return rec, false
		}
	}
	return rec, true
}

// untagged says, when rec's tag does not point at its manifest, so ("" if
// it does).
func (m *Mirror) untagged(rec record) string {
	link := filepath.Join(m.storageDir(), "docker/registry/v2/repositories", rec.Repo, "_manifests/tags", rec.Tag, "current/link")
	got, err := os.ReadFile(link)
	if err != nil || strings.TrimSpace(string(got)) != rec.Digest.String() {
		return fmt.Sprintf("tag %s:%s does not point at %s", rec.Repo, rec.Tag, rec.Digest)
	}
	return ""
}

// missing says what of rec is not in the registry's storage ("" if all is).
func (m *Mirror) missing(rec record) string {
	if bad := m.untagged(rec); bad != "" {
		return bad
	}
	for _, b := range rec.Blobs {
		fi, err := os.Stat(m.blobPath(b.Digest))
		if err != nil {
			return fmt.Sprintf("blob %s missing", b.Digest)
		}
		if fi.Size() != b.Size {
			return fmt.Sprintf("blob %s has %d bytes, want %d", b.Digest, fi.Size(), b.Size)
		}
	}
	return ""
}

func (m *Mirror) blobPath(d digest.Digest) string { return blobPath(m.storageDir(), d) }

func (m *Mirror) recordPath(t target) string {
	sum := sha256.Sum256([]byte(t.repo + ":" + t.tag))
	return filepath.Join(m.imagesDir(), hex.EncodeToString(sum[:16])+".json")
}

// cleanStale removes what a process killed in the middle of a copy left:
// upload directories and temporary link files. Only the lock holder writes
// to the directory, so under the lock all of these are stale.
func (m *Mirror) cleanStale() error {
	repos := filepath.Join(m.storageDir(), "docker/registry/v2/repositories")
	var errs []error
	err := filepath.WalkDir(repos, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		switch {
		case d.IsDir() && d.Name() == "_uploads":
			ents, err := os.ReadDir(p)
			if err != nil {
				return err
			}
			for _, e := range ents {
				errs = append(errs, os.RemoveAll(filepath.Join(p, e.Name())))
			}
			return fs.SkipDir
		case !d.IsDir() && strings.HasSuffix(d.Name(), ".tmp"):
			errs = append(errs, os.Remove(p))
		}
		return nil
	})
	if err := errors.Join(append(errs, err)...); err != nil {
		return fmt.Errorf("clean stale uploads in %s: %w", repos, err)
	}
	idDir := m.verifiedDir()
	for _, dir := range []string{m.imagesDir(), m.dir, idDir} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), ".tmp-") {
				continue
			}
			// Identities are written without the lock, each in the time
			// of one hash: only an old one is a crashed writer's.
			if dir == idDir {
				if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < time.Hour {
					continue
				}
			}
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

func (m *Mirror) logCopy(e copyEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(m.copyLog(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("copy log: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	return errors.Join(err, f.Close())
}

// closure lists every blob reachable from desc (itself included), reading
// manifests and indexes through provider so their digests are checked.
func closure(ctx context.Context, provider content.Provider, desc ocispec.Descriptor) ([]blobRecord, error) {
	seen := map[digest.Digest]bool{}
	var out []blobRecord
	handler := images.HandlerFunc(func(ctx context.Context, d ocispec.Descriptor) ([]ocispec.Descriptor, error) {
		if seen[d.Digest] {
			return nil, images.ErrSkipDesc
		}
		seen[d.Digest] = true
		out = append(out, blobRecord{Digest: d.Digest, Size: d.Size})
		return images.Children(ctx, provider, d)
	})
	if err := images.Walk(ctx, handler, desc); err != nil {
		return nil, err
	}
	return out, nil
}

// quietContext routes containerd's resolver log (an info line per failed
// fetch attempt) to the mirror's log instead of the process's stderr.
func (m *Mirror) quietContext(ctx context.Context) context.Context {
	l := logrus.New()
	l.Out = m.log
	l.Level = logrus.WarnLevel
	return clog.WithLogger(ctx, logrus.NewEntry(l))
}
