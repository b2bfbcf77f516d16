package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/matrixbox/matrixbox/ociimage"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// busyboxBuild is busybox compiled for one architecture.
type busyboxBuild struct {
	binary   []byte   // the static, stripped busybox
	applets  []string // the applets compiled in, by name
	compiler string   // the first line of the C compiler's --version
	// links are the applets' install paths (/usr/bin/awk); nil for a
	// build cached before they were kept.
	links []string
}

// busyboxTools is what of the host's toolchain goes into a compiled busybox.
type busyboxTools struct {
	Compiler   string // the first line of the C compiler's --version
	LibcSHA256 string // of the static C library it links
}

// buildCacheDir is where recipes keep the programs they compiled, keyed by
// every input: the user's cache directory, shared by every mirror directory
// of the machine (as Go's build cache is), so a fresh mirror directory, as
// tests make, does not compile busybox again.
func (m *Mirror) buildCacheDir() string {
	if m.buildCache != "" {
		return m.buildCache
	}
	if c, err := os.UserCacheDir(); err == nil {
		return filepath.Join(c, "matrixbox", "builds")
	}
	return filepath.Join(m.recipesDir(), "builds")
}

// busyboxBinary returns the busybox of source package dsc for arch, linked
// against r.libc (glibc, or Debian's musl of r.suite): from
// the build cache, or compiled (compileBusybox) and cached. The key covers
// the .dsc (which pins the tarballs' SHA-256), the target, the compiler,
// the static C library, the configuration changes and the recipe version; the
// build runs under a lock of its key, so concurrent processes compile it
// once.
func (m *Mirror) busyboxBinary(ctx context.Context, r recipeSource, dsc, arch, work string) (busyboxBuild, error) {
	t, err := busyboxTargetFor(arch, r.libc)
	if err != nil {
		return busyboxBuild{}, err
	}
	var musl *muslToolchain
	if t.musl {
		if musl, err = m.muslToolchain(ctx, r.suite, t, work); err != nil {
			return busyboxBuild{}, err
		}
	}
	tools, err := busyboxToolchain(ctx, t, musl)
	if err != nil {
		return busyboxBuild{}, err
	}
	dscSum, err := fileSHA256(dsc)
	if err != nil {
		return busyboxBuild{}, err
	}
	// The compiled binaries are keyed by their own version: a change to
	// how the image is laid out (recipeVersions) reuses them.
	keyJSON, err := json.Marshal(struct {
		V      int
		DSC    string
		Target []string
		Tools  busyboxTools
		Config map[string]string
	}{busyboxBuildVersion, dscSum, []string{t.triplet, t.kbuildArch, t.debArch}, tools, busyboxConfig})
	if err != nil {
		return busyboxBuild{}, err
	}
	sum := sha256.Sum256(keyJSON)
	root := m.buildCacheDir()
	if err := os.MkdirAll(root, 0o755); err != nil {
		return busyboxBuild{}, fmt.Errorf("build cache: %w", err)
	}
	dir := filepath.Join(root, "busybox-"+arch+t.libcSuffix()+"-"+hex.EncodeToString(sum[:12]))
	if b, err := readBusyboxBuild(dir); err == nil {
		return b, nil
	}
	lock, err := lockFile(ctx, dir+".lock", max(m.lockTimeout, recipeBuildLimit), "compiling busybox for "+arch)
	if err != nil {
		return busyboxBuild{}, err
	}
	defer lock.unlock()
	if b, err := readBusyboxBuild(dir); err == nil {
		return b, nil
	}
	tmp, err := os.MkdirTemp(root, tempPattern(".tmp-busybox-"))
	if err != nil {
		return busyboxBuild{}, fmt.Errorf("build cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := compileBusybox(ctx, dsc, t, musl, work, tmp); err != nil {
		return busyboxBuild{}, err
	}
	err = errors.Join(
		os.WriteFile(filepath.Join(tmp, "compiler"), []byte(tools.Compiler+"\n"), 0o644),
		os.WriteFile(filepath.Join(tmp, "key.json"), keyJSON, 0o644))
	if err == nil {
		// The rename publishes the whole build at once.
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		return busyboxBuild{}, fmt.Errorf("build cache: %w", err)
	}
	return readBusyboxBuild(dir)
}

// readBusyboxBuild reads a build that busyboxBinary cached in dir.
func readBusyboxBuild(dir string) (busyboxBuild, error) {
	var files [3][]byte
	for i, name := range []string{"busybox", "applets", "compiler"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return busyboxBuild{}, err
		}
		files[i] = b
	}
	b := busyboxBuild{
		binary:   files[0],
		applets:  strings.Fields(string(files[1])),
		compiler: strings.TrimSpace(string(files[2])),
	}
	if links, err := os.ReadFile(filepath.Join(dir, "links")); err == nil {
		b.links = strings.Fields(string(links))
	}
	return b, nil
}

// buildBusybox makes the images of recipe:busybox, one per architecture of
// r: Debian's busybox source package of r.suite, checked against the
// archive's Sources index and its .dsc, compiled from upstream's defconfig
// as a static binary (compileBusybox), in the tree of the official image
// (busyboxRootfs), as one layer. The musl variant's tree has no
// /etc/nsswitch.conf, which only glibc reads.
func (m *Mirror) buildBusybox(ctx context.Context, r recipeSource, work string) ([]*ociimage.Image, error) {
	return m.busyboxImages(ctx, r, work, "sh", func(_ string, b busyboxBuild) (map[string]ociimage.File, map[string]string, error) {
		tree, labels := busyboxRootfs(b.binary, b.applets), map[string]string{}
		if r.libc != "" {
			delete(tree, "/etc/nsswitch.conf")
			labels["org.matrixbox.busybox.libc"] = r.libc
		}
		return tree, labels, nil
	})
}

// busyboxImages makes one image per architecture of r around busybox
// compiled for it against r.libc: layout gives the tree of its one layer
// and labels besides the recipe's own; cmd is its command.
func (m *Mirror) busyboxImages(ctx context.Context, r recipeSource, work, cmd string,
	layout func(arch string, b busyboxBuild) (map[string]ociimage.File, map[string]string, error)) ([]*ociimage.Image, error) {
	dsc, src, err := m.busyboxSource(ctx, r)
	if err != nil {
		return nil, err
	}
	var imgs []*ociimage.Image
	for _, arch := range r.archs {
		img, err := func() (*ociimage.Image, error) {
			b, err := m.busyboxBinary(ctx, r, dsc, arch, work)
			if err != nil {
				return nil, err
			}
			tree, labels, err := layout(arch, b)
			if err != nil {
				return nil, err
			}
			labels["org.matrixbox.recipe"] = r.raw
			labels["org.matrixbox.busybox.source"] = fmt.Sprintf("busybox %s (Debian %s)", src.version, r.suite)
			labels["org.matrixbox.busybox.compiler"] = b.compiler
			layer, err := ociimage.LayerFromFiles(tree)
			if err != nil {
				return nil, err
			}
			return ociimage.Build(ociimage.Config{
				Platform: ocispec.Platform{OS: "linux", Architecture: arch},
				Cmd:      []string{cmd},
				Env:      []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
				Labels:   labels,
			}, layer)
		}()
		if err != nil {
			return nil, fmt.Errorf("linux/%s: %w", arch, err)
		}
		imgs = append(imgs, img)
	}
	return imgs, nil
}

// busyboxSource is the busybox source package of r's suite, fetched into
// the mirror's sources: its .dsc and what the archive says of it.
func (m *Mirror) busyboxSource(ctx context.Context, r recipeSource) (string, debSource, error) {
	sources := filepath.Join(m.recipesDir(), "sources")
	if err := os.MkdirAll(sources, 0o755); err != nil {
		return "", debSource{}, err
	}
	return fetchSource(ctx, sources, r.suite, "busybox")
}

// busyboxTarget is how busybox is compiled for one architecture: the GNU
// triplet of its compiler (CROSS_COMPILE is it and a dash) and busybox's
// ARCH, set explicitly as the official builder does. A musl target is
// compiled by the same gcc against Debian's musl for that architecture
// (muslToolchain); its triplet is musl's (x86_64-linux-musl).
type busyboxTarget struct {
	triplet, gcc, kbuildArch, debArch string
	musl                              bool
}

var busyboxTargets = map[string]busyboxTarget{
	"amd64": {"x86_64-linux-gnu", "x86_64-linux-gnu", "x86_64", "amd64", false},
	"arm64": {"aarch64-linux-gnu", "aarch64-linux-gnu", "aarch64", "arm64", false},
}

var busyboxMuslTargets = map[string]busyboxTarget{
	"amd64": {"x86_64-linux-musl", "x86_64-linux-gnu", "x86_64", "amd64", true},
	"arm64": {"aarch64-linux-musl", "aarch64-linux-gnu", "aarch64", "arm64", true},
}

// busyboxTargetFor is the target of arch with libc ("" or "glibc", or
// "musl"), or an error saying which architectures there are.
func busyboxTargetFor(arch, libc string) (busyboxTarget, error) {
	targets := busyboxTargets
	if libc == "musl" {
		targets = busyboxMuslTargets
	}
	t, ok := targets[arch]
	if !ok {
		return t, fmt.Errorf("recipe:busybox builds for amd64 and arm64, not %q", arch)
	}
	return t, nil
}

// libcSuffix marks the build cache directory of a musl build.
func (t busyboxTarget) libcSuffix() string {
	if t.musl {
		return "-musl"
	}
	return ""
}

// compilerPackages are the Debian packages that give the host a C compiler
// and static C library for t.
func (t busyboxTarget) compilerPackages() string {
	if t.debArch == hostDebArch() {
		return "gcc libc6-dev"
	}
	return "gcc-" + strings.ReplaceAll(t.gcc, "_", "-") + " libc6-dev-" + t.debArch + "-cross"
}

// busyboxConfig is what the recipe changes in upstream's defconfig: a
// static binary (the image has no C library), and what the official image's
// builder changes (ar with archive creation and long names, inotifyd,
// LAST_SUPPORTED_WCHAR=0 for UTF-8 input, no FEATURE_SYNC_FANCY). Nothing
// else had to be turned off to link statically against Debian 12's glibc
// for amd64 and arm64.
var busyboxConfig = map[string]string{
	"CONFIG_STATIC":                    "y",
	"CONFIG_AR":                        "y",
	"CONFIG_FEATURE_AR_CREATE":         "y",
	"CONFIG_FEATURE_AR_LONG_FILENAMES": "y",
	"CONFIG_INOTIFYD":                  "y",
	"CONFIG_LAST_SUPPORTED_WCHAR":      "0",
	"CONFIG_FEATURE_SYNC_FANCY":        "", // not set
}

// editConfig sets the symbols of want in a busybox .config ("" unsets).
// With check, it changes nothing and reports each symbol whose value
// differs (make oldconfig drops a value whose dependencies are unmet).
func editConfig(config []byte, want map[string]string, check bool) ([]byte, error) {
	lines := strings.Split(string(config), "\n")
	seen := map[string]bool{}
	var wrong []string
	for i, line := range lines {
		var sym string
		if s, ok := strings.CutPrefix(line, "# "); ok && strings.HasSuffix(s, " is not set") {
			sym = strings.TrimSuffix(s, " is not set")
		} else if k, _, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "CONFIG_") {
			sym = k
		}
		v, ok := want[sym]
		if !ok {
			continue
		}
		seen[sym] = true
		set := "# " + sym + " is not set"
		if v != "" {
			set = sym + "=" + v
		}
		if check && line != set {
			wrong = append(wrong, fmt.Sprintf("%s (want %q)", line, set))
		}
		lines[i] = set
	}
	for _, sym := range slices.Sorted(maps.Keys(want)) {
		if seen[sym] {
			continue
		}
		if check {
			wrong = append(wrong, sym+" missing")
			continue
		}
		if want[sym] != "" {
			lines = append(lines, sym+"="+want[sym])
		}
	}
	if len(wrong) > 0 {
		return nil, fmt.Errorf(".config: %s", strings.Join(wrong, "; "))
	}
	return []byte(strings.Join(lines, "\n")), nil
}

// parseLinks reads busybox.links (one install path per applet, as
// /usr/bin/awk) into applet names.
func parseLinks(b []byte) ([]string, error) {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		line = strings.TrimSpace(line)
		name := line[strings.LastIndex(line, "/")+1:]
		if !strings.HasPrefix(line, "/") || name == "" || name == "." || name == ".." {
			return nil, fmt.Errorf("busybox.links: malformed line %q", line)
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// changelogTime is the date of the latest entry of a debian/changelog, the
// SOURCE_DATE_EPOCH that Debian builds the package with.
func changelogTime(b []byte) (time.Time, error) {
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, " -- ") {
			continue
		}
		_, date, ok := strings.Cut(line, ">  ")
		if !ok {
			break
		}
		t, err := time.Parse("Mon, 2 Jan 2006 15:04:05 -0700", strings.Join(strings.Fields(date), " "))
		if err != nil {
			return time.Time{}, fmt.Errorf("debian/changelog: trailer %q: %w", line, err)
		}
		return t, nil
	}
	return time.Time{}, errors.New("debian/changelog: no trailer line")
}
