package mirror

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/matrixbox/matrixbox/mirror/image"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// busyboxApplets get a symbolic link to /bin/busybox. The list is fixed
// (not asked of the binary, which may be foreign to the host) so that every
// host builds the same image.
var busyboxApplets = []string{
	"[", "awk", "basename", "cat", "chmod", "chown", "cp", "cut", "date", "dd", "df",
	"dirname", "du", "echo", "env", "false", "find", "grep", "gunzip", "gzip", "head",
	"hostname", "id", "kill", "ln", "ls", "mkdir", "mktemp", "mv", "nc", "printf", "ps",
	"pwd", "readlink", "realpath", "rm", "rmdir", "sed", "seq", "sh", "sleep", "sort",
	"stat", "sync", "tail", "tar", "tee", "test", "touch", "tr", "true", "uname", "uniq",
	"vi", "wc", "wget", "which", "xargs",
}

// buildBusybox makes linux/arch's image from Debian's busybox-static: the
// package's files (/bin/busybox) in one layer, the applet links and a
// minimal /etc and /tmp in a second.
func (m *Mirror) buildBusybox(ctx context.Context, r recipeSource, arch, _ string) (*image.Image, error) {
	debs := filepath.Join(m.recipesDir(), "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return nil, err
	}
	deb, err := fetchDeb(ctx, debs, r.suite, arch, "busybox-static")
	if err != nil {
		return nil, err
	}
	pkg, err := image.LayerFromDebs(deb)
	if err != nil {
		return nil, err
	}
	files := map[string]image.File{
		"/etc/passwd": {Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		"/etc/group":  {Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		"/tmp":        {Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		"/root":       {Mode: fs.ModeDir | 0o700},
	}
	for _, a := range busyboxApplets {
		files["/bin/"+a] = image.File{Link: "busybox"}
	}
	links, err := image.LayerFromFiles(files)
	if err != nil {
		return nil, err
	}
	return image.Build(image.Config{
		Platform: ocispec.Platform{OS: "linux", Architecture: arch},
		Cmd:      []string{"/bin/sh"},
		Env:      []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Labels: map[string]string{
			"org.matrixbox.recipe": r.raw,
			"org.matrixbox.deb":    filepath.Base(deb),
		},
	}, pkg, links)
}
