package mirror

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/matrixbox/matrixbox/ociimage"
)

// recipe:alpine stands in for the official alpine image, offline: what
// suites written for alpine read of it is there, what needs Alpine's
// package repositories is not. The release it mimics is Alpine 3.17, whose
// busybox (1.35.0) and musl (1.2.3) are Debian 12's: busybox compiled from
// Debian's source against Debian's musl (static, as recipe:busybox
// ?libc=musl), that musl's dynamic loader at Alpine's path, Alpine's base
// layout (alpine-baselayout's users, groups and directories,
// /etc/alpine-release, /etc/os-release, /etc/apk) and an /sbin/apk that
// says it is none.

// alpineRelease is the Alpine release the recipe's tree says it is, and
// alpineBranch its branch.
const (
	alpineRelease = "3.17.0"
	alpineBranch  = "3.17"
)

// alpinePasswd is alpine-baselayout's /etc/passwd.
const alpinePasswd = `root:x:0:0:root:/root:/bin/ash
bin:x:1:1:bin:/bin:/sbin/nologin
daemon:x:2:2:daemon:/sbin:/sbin/nologin
adm:x:3:4:adm:/var/adm:/sbin/nologin
lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin
sync:x:5:0:sync:/sbin:/bin/sync
shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown
halt:x:7:0:halt:/sbin:/sbin/halt
mail:x:8:12:mail:/var/mail:/sbin/nologin
news:x:9:13:news:/usr/lib/news:/sbin/nologin
uucp:x:10:14:uucp:/var/spool/uucppublic:/sbin/nologin
operator:x:11:0:operator:/root:/sbin/nologin
man:x:13:15:man:/usr/man:/sbin/nologin
postmaster:x:14:12:postmaster:/var/mail:/sbin/nologin
cron:x:16:16:cron:/var/spool/cron:/sbin/nologin
ftp:x:21:21::/var/lib/ftp:/sbin/nologin
sshd:x:22:22:sshd:/dev/null:/sbin/nologin
at:x:25:25:at:/var/spool/cron/atjobs:/sbin/nologin
squid:x:31:31:Squid:/var/cache/squid:/sbin/nologin
xfs:x:33:33:X Font Server:/etc/X11/fs:/sbin/nologin
games:x:35:35:games:/usr/games:/sbin/nologin
cyrus:x:85:12::/usr/cyrus:/sbin/nologin
vpopmail:x:89:89::/var/vpopmail:/sbin/nologin
ntp:x:123:123:NTP:/var/empty:/sbin/nologin
smmsp:x:209:209:smmsp:/var/spool/mqueue:/sbin/nologin
guest:x:405:100:guest:/dev/null:/sbin/nologin
nobody:x:65534:65534:nobody:/:/sbin/nologin
`

// alpineGroup is alpine-baselayout's /etc/group.
const alpineGroup = `root:x:0:root
bin:x:1:root,bin,daemon
daemon:x:2:root,bin,daemon
sys:x:3:root,bin,adm
adm:x:4:root,adm,daemon
tty:x:5:
disk:x:6:root,adm
lp:x:7:lp
mem:x:8:
kmem:x:9:
wheel:x:10:root
floppy:x:11:root
mail:x:12:mail
news:x:13:news
uucp:x:14:uucp
man:x:15:man
cron:x:16:cron
console:x:17:
audio:x:18:
cdrom:x:19:
dialout:x:20:root
ftp:x:21:
sshd:x:22:
input:x:23:
at:x:25:at
tape:x:26:root
video:x:27:root
netdev:x:28:
readproc:x:30:
squid:x:31:squid
xfs:x:33:xfs
kvm:x:34:kvm
games:x:35:
shadow:x:42:
cdrw:x:80:
www-data:x:82:
usb:x:85:
vpopmail:x:89:
users:x:100:games
ntp:x:123:
nofiles:x:200:
smmsp:x:209:smmsp
locate:x:245:
abuild:x:300:
utmp:x:406:
ping:x:999:
nogroup:x:65533:
nobody:x:65534:
`

// alpineShadow is /etc/shadow for the users of alpinePasswd: root's password is
// locked ("*"), as in the official image since CVE-2019-5021, the others'
// disabled ("!").
func alpineShadow() string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(alpinePasswd), "\n") {
		name, _, _ := strings.Cut(line, ":")
		pw := "!"
		if name == "root" {
			pw = "*"
		}
		fmt.Fprintf(&b, "%s:%s::0:::::\n", name, pw)
	}
	return b.String()
}

// alpineOSRelease is /etc/os-release of alpineRelease.
func alpineOSRelease() string {
	return `NAME="Alpine Linux"
ID=alpine
VERSION_ID=` + alpineRelease + `
PRETTY_NAME="Alpine Linux v` + alpineBranch + `"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
`
}

// alpineApk is the /sbin/apk of the recipe: it installs nothing and says
// why, on stderr, with apk's exit status for an error.
const alpineApk = `#!/bin/sh
echo "apk: this alpine is matrixbox's offline stand-in (recipe:alpine): it has no package manager and no package index; mirror the real alpine image for tests that install packages" >&2
exit 1
`

// alpineWorld is the packages /etc/apk/world says the image holds, as
// Alpine's minimal root filesystem lists them.
const alpineWorld = "alpine-baselayout\nalpine-keys\napk-tools\nbusybox\nlibc-utils\n"

// buildAlpine makes the images of recipe:alpine, one per architecture of
// r: the musl busybox of r.suite's source, in Alpine's tree (alpineRootfs)
// with the musl of that suite, as one layer.
func (m *Mirror) buildAlpine(ctx context.Context, r recipeSource, work string) ([]*ociimage.Image, error) {
	return m.busyboxImages(ctx, r, work, "/bin/sh", func(arch string, b busyboxBuild) (map[string]ociimage.File, map[string]string, error) {
		if len(b.links) == 0 {
			return nil, nil, fmt.Errorf("the cached busybox build has no applet install paths: remove it from %s", m.buildCacheDir())
		}
		t, err := busyboxTargetFor(arch, r.libc)
		if err != nil {
			return nil, nil, err
		}
		musl, err := m.muslToolchain(ctx, r.suite, t, work)
		if err != nil {
			return nil, nil, err
		}
		loader, err := os.ReadFile(musl.libcSO)
		if err != nil {
			return nil, nil, err
		}
		return alpineRootfs(b, t.kbuildArch, loader), map[string]string{
			"org.matrixbox.alpine.release": alpineRelease,
			"org.matrixbox.busybox.libc":   r.libc,
		}, nil
	})
}

// alpineRootfs is Alpine's tree around busybox b, for musl's machine name
// arch (x86_64), with the musl shared C library loader.
func alpineRootfs(b busyboxBuild, arch string, loader []byte) map[string]ociimage.File {
	dir := func(mode fs.FileMode) ociimage.File { return ociimage.File{Mode: fs.ModeDir | mode} }
	text := func(s string) ociimage.File { return ociimage.File{Data: []byte(s), Mode: 0o644} }
	files := map[string]ociimage.File{
		"/bin/busybox":                     {Data: b.binary, Mode: 0o755},
		"/sbin/apk":                        {Data: []byte(alpineApk), Mode: 0o755},
		"/lib/ld-musl-" + arch + ".so.1":   {Data: loader, Mode: 0o755},
		"/lib/libc.musl-" + arch + ".so.1": {Link: "ld-musl-" + arch + ".so.1"},
		"/lib/apk/db":                      dir(0o755),
		"/etc/alpine-release":              text(alpineRelease + "\n"),
		"/etc/os-release":                  text(alpineOSRelease()),
		"/etc/issue":                       text("Welcome to Alpine Linux " + alpineBranch + "\nKernel \\r on an \\m (\\l)\n\n"),
		"/etc/hostname":                    text("localhost\n"),
		"/etc/passwd":                      text(alpinePasswd),
		"/etc/group":                       text(alpineGroup),
		"/etc/shadow":                      {Data: []byte(alpineShadow()), Mode: 0o640, GID: 42},
		"/etc/shells":                      text("# valid login shells\n/bin/sh\n/bin/ash\n"),
		"/etc/apk/arch":                    text(arch + "\n"),
		"/etc/apk/world":                   text(alpineWorld),
		"/etc/apk/repositories":            text("https://dl-cdn.alpinelinux.org/alpine/v" + alpineBranch + "/main\nhttps://dl-cdn.alpinelinux.org/alpine/v" + alpineBranch + "/community\n"),
		"/etc/apk/keys":                    dir(0o755),
		"/etc/mtab":                        {Link: "../proc/mounts"},
		"/dev":                             dir(0o755),
		"/home":                            dir(0o755),
		"/media/cdrom":                     dir(0o755),
		"/media/floppy":                    dir(0o755),
		"/media/usb":                       dir(0o755),
		"/mnt":                             dir(0o755),
		"/opt":                             dir(0o755),
		"/proc":                            dir(0o555),
		"/root":                            dir(0o700),
		"/run":                             dir(0o755),
		"/srv":                             dir(0o755),
		"/sys":                             dir(0o555),
		"/tmp":                             dir(0o777 | fs.ModeSticky),
		"/usr/local/bin":                   dir(0o755),
		"/usr/local/lib":                   dir(0o755),
		"/usr/local/share":                 dir(0o755),
		"/usr/share/misc":                  dir(0o755),
		"/var/cache":                       dir(0o755),
		"/var/empty":                       dir(0o555),
		"/var/lib/misc":                    dir(0o755),
		"/var/local":                       dir(0o755),
		"/var/lock":                        {Link: "../run/lock"},
		"/var/log":                         dir(0o755),
		"/var/mail":                        dir(0o755),
		"/var/opt":                         dir(0o755),
		"/var/run":                         {Link: "../run"},
		"/var/spool/cron/crontabs":         {Link: "../../../etc/crontabs"},
		"/etc/crontabs":                    dir(0o755),
		"/var/tmp":                         dir(0o777 | fs.ModeSticky),
		"/usr/share/apk/keys/" + arch:      dir(0o755),
	}
	// Alpine's busybox installs each applet as a symbolic link to
	// /bin/busybox at its own path (/bin/sh, /usr/bin/awk, /sbin/ip).
	for _, p := range b.links {
		if _, taken := files[p]; !taken && p != "/bin/busybox" {
			files[p] = ociimage.File{Link: "/bin/busybox"}
		}
	}
	return files
}
