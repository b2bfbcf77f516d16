package ociimage

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
)

// Whiteout names of the OCI layer format.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// FileInfo describes one path of an image's merged filesystem.
type FileInfo struct {
	Path     string // absolute: "/etc/os-release"
	Typeflag byte   // tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, ...
	Mode     fs.FileMode
	Size     int64
	Linkname string
	UID, GID int
	Layer    int // index of the layer that provides it, base = 0

	ordinal int // position of its header in that layer
}

type merged struct {
	once  sync.Once
	files map[string]*FileInfo // keyed by clean relative name
	err   error
}

// Files lists the image's merged filesystem, sorted by path: each layer
// applied over the ones below, whiteouts (.wh.name) removing a lower path
// and everything under it, opaque whiteouts (.wh..wh..opq) hiding a lower
// directory's content. Every layer is read to its end and checked against
// its digest.
func (i *Image) Files() ([]FileInfo, error) {
	m, err := i.mergedFS()
	if err != nil {
		return nil, err
	}
	out := make([]FileInfo, 0, len(m))
	for _, f := range m {
		out = append(out, *f)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Path < out[b].Path })
	return out, nil
}

func (i *Image) mergedFS() (map[string]*FileInfo, error) {
	i.merged.once.Do(func() { i.merged.files, i.merged.err = i.merge() })
	return i.merged.files, i.merged.err
}

func (i *Image) merge() (map[string]*FileInfo, error) {
	state := map[string]*FileInfo{}
	for n, l := range i.layers {
		var adds []*FileInfo
		var opaque, whiteouts []string
		ord := 0
		err := walkLayer(l, func(hdr *tar.Header, _ io.Reader) (bool, error) {
			ord++
			name, err := cleanPath(hdr.Name)
			if err != nil {
				return false, err
			}
			dir, base := path.Split(name)
			dir = strings.TrimSuffix(dir, "/")
			switch {
			case base == whiteoutOpaque:
				opaque = append(opaque, dir)
			case strings.HasPrefix(base, whiteoutPrefix):
				whiteouts = append(whiteouts, path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix)))
			case name != "":
				adds = append(adds, &FileInfo{
					Path: "/" + name, Typeflag: hdr.Typeflag, Mode: hdr.FileInfo().Mode(), Size: hdr.Size,
					Linkname: hdr.Linkname, UID: hdr.Uid, GID: hdr.Gid, Layer: n, ordinal: ord,
				})
			}
			return false, nil
		})
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", n, l.Digest, err)
		}
		for _, d := range opaque {
			removeUnder(state, d)
		}
		for _, w := range whiteouts {
			delete(state, w)
			removeUnder(state, w)
		}
		for _, f := range adds {
			name := strings.TrimPrefix(f.Path, "/")
			if old, ok := state[name]; ok && old.Typeflag == tar.TypeDir && f.Typeflag != tar.TypeDir {
				removeUnder(state, name)
			}
			state[name] = f
		}
	}
	return state, nil
}

func removeUnder(state map[string]*FileInfo, dir string) {
	prefix := dir + "/"
	for k := range state {
		if dir == "" || strings.HasPrefix(k, prefix) {
			delete(state, k)
		}
	}
}

// walkLayer calls fn for each entry of the layer's tar until fn says stop,
// then reads the rest of the blob so that its digest is checked.
func walkLayer(l Layer, fn func(*tar.Header, io.Reader) (bool, error)) error {
	rc, err := l.Tar()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		stop, err := fn(hdr, tr)
		if err != nil {
			return err
		}
		if stop {
			break
		}
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return err
	}
	return nil
}

// Stat describes path in the merged filesystem without following a final
// symbolic link (intermediate ones are followed).
func (i *Image) Stat(p string) (FileInfo, error) {
	m, err := i.mergedFS()
	if err != nil {
		return FileInfo{}, err
	}
	f, err := resolve(m, p, false)
	if err != nil {
		return FileInfo{}, err
	}
	return *f, nil
}

// ReadFile returns the content of path as the merged filesystem shows it,
// following symbolic links (within the image) and hard links.
func (i *Image) ReadFile(p string) ([]byte, error) {
	m, err := i.mergedFS()
	if err != nil {
		return nil, err
	}
	f, err := resolve(m, p, true)
	if err != nil {
		return nil, err
	}
	for hops := 0; f.Typeflag == tar.TypeLink; hops++ {
		target, ok := m[strings.TrimPrefix(path.Clean("/"+f.Linkname), "/")]
		if !ok || hops > 8 {
			return nil, fmt.Errorf("image file %s: hard link to missing %s", p, f.Linkname)
		}
		f = target
	}
	if f.Typeflag != tar.TypeReg && f.Typeflag != tar.TypeRegA {
		return nil, fmt.Errorf("image file %s: not a regular file (%s)", p, f.Mode.Type())
	}
	var data []byte
	ord := 0
	err = walkLayer(i.layers[f.Layer], func(hdr *tar.Header, r io.Reader) (bool, error) {
		ord++
		if ord != f.ordinal {
			return false, nil
		}
		var err error
		data, err = io.ReadAll(r)
		return true, err
	})
	if err != nil {
		return nil, fmt.Errorf("image file %s: layer %d (%s): %w", p, f.Layer, i.layers[f.Layer].Digest, err)
	}
	return data, nil
}

// resolve walks p through the merged tree, following symbolic links in
// directories (and in the last element when follow is set) the way the
// kernel would inside a chroot.
func resolve(m map[string]*FileInfo, p string, follow bool) (*FileInfo, error) {
	todo := splitPath(p)
	var cur []string
	for links := 0; len(todo) > 0; {
		el := todo[0]
		todo = todo[1:]
		if el == ".." {
			if len(cur) > 0 {
				cur = cur[:len(cur)-1]
			}
			continue
		}
		name := strings.Join(append(cur, el), "/")
		f, ok := m[name]
		if !ok {
			if len(todo) == 0 || !impliedDir(m, name) {
				return nil, fmt.Errorf("image file %s: %w", p, fs.ErrNotExist)
			}
			cur = append(cur, el)
			continue
		}
		if f.Typeflag == tar.TypeSymlink && (len(todo) > 0 || follow) {
			if links++; links > 40 {
				return nil, fmt.Errorf("image file %s: too many levels of symbolic links", p)
			}
			if strings.HasPrefix(f.Linkname, "/") {
				cur = nil
			}
			todo = append(splitPath(f.Linkname), todo...)
			continue
		}
		if len(todo) > 0 && f.Typeflag != tar.TypeDir {
			return nil, fmt.Errorf("image file %s: %s is not a directory", p, "/"+name)
		}
		cur = append(cur, el)
		if len(todo) == 0 {
			return f, nil
		}
	}
	if len(cur) == 0 {
		return &FileInfo{Path: "/", Typeflag: tar.TypeDir, Mode: fs.ModeDir | 0o755, Layer: -1}, nil
	}
	name := strings.Join(cur, "/")
	if f, ok := m[name]; ok {
		return f, nil
	}
	return &FileInfo{Path: "/" + name, Typeflag: tar.TypeDir, Mode: fs.ModeDir | 0o755, Layer: -1}, nil
}

func splitPath(p string) []string {
	var out []string
	for _, el := range strings.Split(p, "/") {
		if el != "" && el != "." {
			out = append(out, el)
		}
	}
	return out
}

// impliedDir reports whether some path lies under name although name has
// no entry of its own (layers may omit parent directories).
func impliedDir(m map[string]*FileInfo, name string) bool {
	prefix := name + "/"
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}
