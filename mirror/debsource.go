package mirror

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// debSource is a Debian source package as its suite's Sources index lists
// it: the .dsc and the tarballs it names, each with its SHA-256.
type debSource struct {
	pkg, version, directory string
	files                   []debFile
}

type debFile struct {
	name   string
	size   int64
	sha256 string
}

// findSource reads suite's Sources index for source package pkg.
func findSource(ctx context.Context, suite, pkg string) (debSource, error) {
	index := fmt.Sprintf("%s/dists/%s/main/source/Sources.xz", debianArchive(), suite)
	var src debSource
	var parseErr error
	err := scanIndex(ctx, index, func(st stanza) bool {
		if st["Package"] != pkg {
			return false
		}
		src = debSource{pkg: pkg, version: st["Version"], directory: st["Directory"]}
		src.files, parseErr = parseChecksums(st["Checksums-Sha256"])
		return true
	})
	switch {
	case err != nil:
		return debSource{}, err
	case parseErr != nil:
		return debSource{}, fmt.Errorf("source package %s in %s: %w", pkg, index, parseErr)
	case src.version == "":
		return debSource{}, fmt.Errorf("source package %s not in %s", pkg, index)
	case src.directory == "" || src.dsc() == "":
		return debSource{}, fmt.Errorf("source package %s in %s: no Directory or no .dsc", pkg, index)
	}
	return src, nil
}

// dsc is the name of the source package's .dsc file.
func (s debSource) dsc() string {
	for _, f := range s.files {
		if strings.HasSuffix(f.name, ".dsc") {
			return f.name
		}
	}
	return ""
}

// parseChecksums reads a Checksums-Sha256 field: lines of "sha256 size name".
func parseChecksums(v string) ([]debFile, error) {
	var out []debFile
	for _, line := range strings.Split(v, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 || len(fields[0]) != 64 || strings.ContainsAny(fields[2], "/\\") {
			return nil, fmt.Errorf("malformed Checksums-Sha256 line %q", line)
		}
		size, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("malformed Checksums-Sha256 line %q: %w", line, err)
		}
		out = append(out, debFile{name: fields[2], size: size, sha256: fields[0]})
	}
	return out, nil
}

// fetchSource downloads source package pkg of suite into dir (a file
// already there with the right checksum is reused) and returns the path of
// its .dsc and the package as the index lists it. Every file is checked
// against the SHA-256 of the Sources index, and the tarballs also against
// the .dsc, so that dpkg-source unpacks exactly what the archive published.
func fetchSource(ctx context.Context, dir, suite, pkg string) (string, debSource, error) {
	src, err := findSource(ctx, suite, pkg)
	if err != nil {
		return "", debSource{}, err
	}
	for _, f := range src.files {
		dst := filepath.Join(dir, f.name)
		if ok, _ := fileHasSHA256(dst, f.sha256); ok {
			continue
		}
		if err := download(ctx, debianArchive()+"/"+src.directory+"/"+f.name, dst, f.sha256); err != nil {
			return "", debSource{}, err
		}
	}
	dsc := filepath.Join(dir, src.dsc())
	b, err := os.ReadFile(dsc)
	if err != nil {
		return "", debSource{}, err
	}
	var listed []debFile
	var parseErr error
	err = scanStanzas(strings.NewReader(string(b)), func(st stanza) bool {
		if st["Source"] == "" {
			return false // the OpenPGP armour header
		}
		listed, parseErr = parseChecksums(st["Checksums-Sha256"])
		return true
	})
	if err = joinErr(err, parseErr); err != nil {
		return "", debSource{}, fmt.Errorf("%s: %w", dsc, err)
	}
	for _, f := range src.files {
		if f.name == src.dsc() {
			continue
		}
		if !slices.Contains(listed, f) {
			return "", debSource{}, fmt.Errorf("%s: %s (sha256 %s) of the Sources index is not what the .dsc lists: %w", dsc, f.name, f.sha256, ErrDigestMismatch)
		}
	}
	if len(listed) != len(src.files)-1 {
		return "", debSource{}, fmt.Errorf("%s lists %d files, the Sources index %d besides the .dsc", dsc, len(listed), len(src.files)-1)
	}
	return dsc, src, nil
}
