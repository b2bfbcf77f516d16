package mirror

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
)

// fileID is what the mirror records of a blob file when it finds it intact
// on this machine: enough to tell, with one stat, whether it is still that
// very file, unchanged.
//
// The inode and device change when the file is replaced (a copy, a tar or
// `cp -a` restore, a repair); the ctime changes on every write and on
// every change of the mtime, and userland cannot set it back. So a file
// whose identity matches was not written since it was hashed.
type fileID struct {
	Size         int64
	Dev, Ino     uint64
	Mtime, Ctime int64 // nanoseconds since the epoch
	// Clock is the file system's clock (the ctime of a file created for
	// the purpose) just before the blob was looked at. File timestamps
	// come from a clock that ticks every few milliseconds, so a write in
	// the tick of the recorded ctime may leave the ctime as it was; a
	// write after Clock cannot. An identity is trusted only when the
	// recorded ctime is before Clock (see settled), as git does with its
	// "racily clean" index entries.
	Clock int64
}

// same reports whether a and b describe the same, unchanged file.
func (a fileID) same(b fileID) bool {
	return a.Size == b.Size && a.Dev == b.Dev && a.Ino == b.Ino && a.Mtime == b.Mtime && a.Ctime == b.Ctime
}

// settled reports whether no write after the identity was taken can have
// left the ctime unchanged.
func (a fileID) settled() bool { return a.Ctime < a.Clock }

func (s *blobStore) idPath(d digest.Digest) string {
	return filepath.Join(s.idDir, string(d.Algorithm()), d.Encoded())
}

// idVersion starts every identity file; a file that does not start with it
// (another format, a torn write) is no identity, and its blob is hashed.
const idVersion = "matrixbox-blob-identity-v1"

// String is the identity file's content: one line, the version and the
// fields in declaration order, in decimal. Not JSON: a warm hit reads one
// identity per blob, and decoding JSON cost more than the read.
func (a fileID) String() string {
	return fmt.Sprintf("%s size=%d dev=%d ino=%d mtime=%d ctime=%d clock=%d\n", idVersion, a.Size, a.Dev, a.Ino, a.Mtime, a.Ctime, a.Clock)
}

func parseID(s string) (fileID, bool) {
	f := strings.Fields(s)
	if len(f) != 7 || f[0] != idVersion {
		return fileID{}, false
	}
	var id fileID
	for i, dst := range []any{&id.Size, &id.Dev, &id.Ino, &id.Mtime, &id.Ctime, &id.Clock} {
		_, v, ok := strings.Cut(f[i+1], "=")
		if !ok {
			return fileID{}, false
		}
		var err error
		switch p := dst.(type) {
		case *int64:
			*p, err = strconv.ParseInt(v, 10, 64)
		case *uint64:
			*p, err = strconv.ParseUint(v, 10, 64)
		}
		if err != nil {
			return fileID{}, false
		}
	}
	return id, true
}

func readID(path string) (fileID, bool) {
	var buf [256]byte
	n, err := readSmall(path, buf[:])
	if err != nil || n == len(buf) {
		return fileID{}, false
	}
	return parseID(string(buf[:n]))
}

// clockProbe is a new, empty file in the identity directory: its ctime
// reads the file system's clock, and once written it becomes the identity
// file, renamed into place so that readers see a whole identity or none.
type clockProbe struct {
	f     *os.File
	clock int64
}

// newProbe creates a probe. Identities are a cache: a mirror directory
// where they cannot be written still works, each check hashing.
func (s *blobStore) newProbe() (*clockProbe, error) {
	if err := os.MkdirAll(s.idDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.idDir, ".tmp-*")
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	id, ok := fileIDOf(fi)
	if err != nil || !ok {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("read the file system clock from %s: %v", f.Name(), err)
	}
	return &clockProbe{f: f, clock: id.Ctime}, nil
}

// commit writes id, stamped with the probe's clock, as d's identity. No
// fsync: an identity lost in a crash costs one hash, nothing more.
func (p *clockProbe) commit(s *blobStore, d digest.Digest, id fileID) error {
	id.Clock = p.clock
	_, err := p.f.WriteString(id.String())
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	dst := s.idPath(d)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(dst), 0o755)
	}
	if err == nil {
		err = os.Rename(p.f.Name(), dst)
	}
	if err != nil {
		os.Remove(p.f.Name())
		return fmt.Errorf("record identity of blob %s: %w", d, err)
	}
	s.mu.Lock()
	s.ids[d] = id
	s.mu.Unlock()
	return nil
}

// discard removes a probe that will not be committed.
func (p *clockProbe) discard() {
	p.f.Close()
	os.Remove(p.f.Name())
}
