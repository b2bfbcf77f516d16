package mirror

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/ulikunitz/xz"
)

// EnvDebianMirror overrides the Debian archive recipes download from
// (default: the first Debian archive in the host's apt sources, else
// http://deb.debian.org/debian).
const EnvDebianMirror = "MATRIXBOX_DEBIAN_MIRROR"

func hostDebArch() string { return runtime.GOARCH }

// debianArchive finds the Debian archive apt is configured with.
func debianArchive() string {
	if u := os.Getenv(EnvDebianMirror); u != "" {
		return strings.TrimSuffix(u, "/")
	}
	var files []string
	files, _ = filepath.Glob("/etc/apt/sources.list.d/*.sources")
	files = append(files, "/etc/apt/sources.list")
	more, _ := filepath.Glob("/etc/apt/sources.list.d/*.list")
	files = append(files, more...)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			for _, field := range strings.Fields(line) {
				if (strings.HasPrefix(field, "http://") || strings.HasPrefix(field, "https://")) &&
					strings.HasSuffix(strings.TrimSuffix(field, "/"), "/debian") {
					return strings.TrimSuffix(field, "/")
				}
			}
		}
	}
	return "http://deb.debian.org/debian"
}

// fetchDeb downloads package pkg of suite for arch into dir (once: a file
// already there with the right checksum is reused) and returns its path.
// The checksum comes from the suite's Packages index.
func fetchDeb(ctx context.Context, dir, suite, arch, pkg string) (string, error) {
	base := debianArchive()
	idx := fmt.Sprintf("%s/dists/%s/main/binary-%s/Packages.xz", base, suite, arch)
	filename, sum, err := findPackage(ctx, idx, pkg)
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, path.Base(filename))
	if ok, _ := fileHasSHA256(dst, sum); ok {
		return dst, nil
	}
	if err := download(ctx, base+"/"+filename, dst, sum); err != nil {
		return "", err
	}
	return dst, nil
}

func findPackage(ctx context.Context, index, pkg string) (filename, sha string, err error) {
	err = scanIndex(ctx, index, func(st stanza) bool {
		if st["Package"] == pkg && st["Filename"] != "" {
			filename, sha = st["Filename"], st["SHA256"]
			return true
		}
		return false
	})
	if err == nil && filename == "" {
		err = fmt.Errorf("package %s not in %s", pkg, index)
	}
	return filename, sha, err
}

// stanza is one paragraph of a Debian control file: field → value, a
// multi-line value's continuation lines joined by "\n" (the first line
// may be empty, as in Checksums-Sha256).
type stanza map[string]string

// scanIndex reads an xz-compressed archive index (Packages.xz, Sources.xz)
// and calls found for each stanza until it returns true.
func scanIndex(ctx context.Context, index string, found func(stanza) bool) error {
	body, err := httpGet(ctx, index)
	if err != nil {
		return err
	}
	defer body.Close()
	zr, err := xz.NewReader(bufio.NewReaderSize(body, 1<<16))
	if err != nil {
		return fmt.Errorf("%s: %w", index, err)
	}
	if err := scanStanzas(zr, found); err != nil {
		return fmt.Errorf("%s: %w", index, err)
	}
	return nil
}

// scanStanzas calls found for each stanza of r until it returns true.
func scanStanzas(r io.Reader, found func(stanza) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	st, last := stanza{}, ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(st) > 0 && found(st) {
				return nil
			}
			st, last = stanza{}, ""
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				st[last] += "\n" + strings.TrimSpace(line)
			}
		default:
			k, v, _ := strings.Cut(line, ":")
			last = k
			st[k] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(st) > 0 {
		found(st)
	}
	return nil
}

func httpGet(ctx context.Context, u string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("download %s: %s", u, resp.Status)
	}
	return resp.Body, nil
}

// download writes u to dst through a temporary file, checking its SHA-256.
func download(ctx context.Context, u, dst, sum string) error {
	body, err := httpGet(ctx, u)
	if err != nil {
		return err
	}
	defer body.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), tempPattern(".tmp-"))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", u, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("download %s: sha256 %s, the archive index says %s: %w", u, got, sum, ErrDigestMismatch)
	}
	return os.Rename(tmp.Name(), dst)
}

func fileHasSHA256(p, sum string) (bool, error) {
	got, err := fileSHA256(p)
	return got == sum, err
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
