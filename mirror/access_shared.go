package mirror

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofrs/flock"
	"github.com/opencontainers/go-digest"
)

// declaredFiles shares what each test process serving one fixed port
// declared. On such a port the kernel hands a daemon's connection to any
// of them (SO_REUSEPORT), so each serves what any of them declared: a
// mirror writes its own in DIR/declared/<pid>-<n>.json and holds a lock
// on DIR/declared/<pid>-<n>.lock for as long as it serves; the files of a
// mirror whose lock is free are no one's, and are removed.
type declaredFiles struct {
	dir  string
	self string // this process's file
	lock *flock.Flock

	mu     sync.Mutex
	others declaredSet
	read   time.Time
}

// declaredSet is what a process declared, as its file holds it.
type declaredSet struct {
	Tags    map[string]map[string]digest.Digest `json:"tags"`
	Digests map[string][]digest.Digest          `json:"digests"`
}

// declaredSeq numbers the mirrors of this process that share a port.
var declaredSeq atomic.Int64

// othersTTL bounds how stale the other processes' declarations may be:
// a miss reads them again at most this often.
const othersTTL = time.Second

func newDeclaredFiles(dir string) (*declaredFiles, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, strconv.Itoa(os.Getpid())+"-"+strconv.FormatInt(declaredSeq.Add(1), 10))
	lock := flock.New(base + ".lock")
	if ok, err := lock.TryLock(); err != nil || !ok {
		return nil, errors.Join(errors.New("lock "+base+".lock"), err)
	}
	return &declaredFiles{dir: dir, self: base + ".json", lock: lock}, nil
}

// write replaces this process's file.
func (f *declaredFiles) write(tags map[string]map[string]digest.Digest, digests map[string]map[digest.Digest]bool, logf func(string, ...any)) {
	set := declaredSet{Tags: tags, Digests: map[string][]digest.Digest{}}
	for repo, ds := range digests {
		for d := range ds {
			set.Digests[repo] = append(set.Digests[repo], d)
		}
	}
	b, err := json.Marshal(set)
	if err == nil {
		err = writeFileAtomic(f.self, b)
	}
	if err != nil {
		logf("mirror: record what this process declared: %v", err)
	}
}

// load returns what the other running processes declared, read again when
// older than othersTTL.
func (f *declaredFiles) load() declaredSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Since(f.read) < othersTTL {
		return f.others
	}
	f.read = time.Now()
	f.others = declaredSet{Tags: map[string]map[string]digest.Digest{}, Digests: map[string][]digest.Digest{}}
	files, _ := filepath.Glob(filepath.Join(f.dir, "*.json"))
	for _, p := range files {
		if p == f.self {
			continue
		}
		base := strings.TrimSuffix(p, ".json")
		l := flock.New(base + ".lock")
		if ok, err := l.TryRLock(); err == nil && ok {
			// No process holds it: it ended.
			_ = os.Remove(p)
			_ = os.Remove(base + ".lock")
			_ = l.Close()
			continue
		}
		_ = l.Close()
		b, err := os.ReadFile(p)
		var set declaredSet
		if err != nil || json.Unmarshal(b, &set) != nil {
			continue
		}
		for repo, tags := range set.Tags {
			if f.others.Tags[repo] == nil {
				f.others.Tags[repo] = map[string]digest.Digest{}
			}
			for t, d := range tags {
				f.others.Tags[repo][t] = d
			}
		}
		for repo, ds := range set.Digests {
			f.others.Digests[repo] = append(f.others.Digests[repo], ds...)
		}
	}
	return f.others
}

func (f *declaredFiles) tagged(repo, tag string) (digest.Digest, bool) {
	d, ok := f.load().Tags[repo][tag]
	return d, ok
}

func (f *declaredFiles) has(repo string, d digest.Digest) bool {
	for _, x := range f.load().Digests[repo] {
		if x == d {
			return true
		}
	}
	return false
}

func (f *declaredFiles) tagsOf(repo string) []string {
	var tags []string
	for t := range f.load().Tags[repo] {
		tags = append(tags, t)
	}
	return tags
}

func (f *declaredFiles) close() error {
	var errs []error
	for _, p := range []string{f.self, strings.TrimSuffix(f.self, ".json") + ".lock"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, f.lock.Unlock(), f.lock.Close())...)
}
