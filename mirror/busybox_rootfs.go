package mirror

import (
	"encoding/binary"
	"io/fs"

	"github.com/matrixbox/matrixbox/ociimage"
)

// The official busybox image (docker-library/busybox, variant glibc, the one
// tagged latest) is built by its Dockerfile.builder: the binary at
// /bin/busybox, `busybox --install /bin` (a hard link per applet, all in
// /bin), buildroot's skeleton /etc/passwd, /etc/group and /etc/shadow
// (system/skeleton/etc at the buildroot release it pins; unchanged since
// 2020), buildroot's system/device_table.txt applied as directories and
// modes only (its owner columns are not used: /var/www stays root's), a
// home directory made for each user that lacks one (owned by that user,
// 0755), /usr/bin/env as a symbolic link to ../../bin/env, /etc/localtime
// a hard link of Debian's /usr/share/zoneinfo/UTC, and Debian's default
// /etc/nsswitch.conf. The values below are those files' contents.
//
// Left out, because the binary here is static: /lib and /lib64 (the
// official glibc variant links dynamically and ships glibc's libraries and
// NSS modules there) and /bin/getconf (Debian's, dynamically linked; not a
// busybox applet).

// busyboxPasswd is buildroot's system/skeleton/etc/passwd.
const busyboxPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`

// busyboxGroup is buildroot's system/skeleton/etc/group.
const busyboxGroup = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nobody:x:65534:
`

// busyboxShadow is buildroot's system/skeleton/etc/shadow with root's empty
// password locked ("root::" becomes "root:*:", CVE-2019-5021), as the
// official builder does.
const busyboxShadow = `root:*:::::::
daemon:*:::::::
bin:*:::::::
sys:*:::::::
sync:*:::::::
mail:*:::::::
www-data:*:::::::
operator:*:::::::
nobody:*:::::::
`

// busyboxNsswitch is Debian's default /etc/nsswitch.conf (libc-bin's
// /usr/share/libc-bin/nsswitch.conf). The static binary's glibc still reads
// it for host lookups: "files dns" puts /etc/hosts first.
const busyboxNsswitch = `# /etc/nsswitch.conf
#
# Example configuration of GNU Name Service Switch functionality.
# If you have the ` + "`glibc-doc-reference' and `info'" + ` packages installed, try:
# ` + "`info libc \"Name Service Switch\"'" + ` for information about this file.

passwd:         files
group:          files
shadow:         files
gshadow:        files

hosts:          files dns
networks:       files

protocols:      db files
services:       db files
ethers:         db files
rpc:            db files

netgroup:       nis
`

// tzifUTC is the zone file of UTC as Debian's tzdata ships it
// (/usr/share/zoneinfo/UTC, 114 bytes): a version 2 TZif file whose v1 and
// v2 parts each hold no transitions and one local time type (offset 0, not
// DST, abbreviation "UTC"), and the footer TZ string "UTC0".
func tzifUTC() []byte {
	part := make([]byte, 0, 54)
	part = append(part, "TZif2"...)
	part = append(part, make([]byte, 15)...)
	// isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
	for _, n := range []uint32{0, 0, 0, 0, 1, 4} {
		part = binary.BigEndian.AppendUint32(part, n)
	}
	part = append(part, 0, 0, 0, 0, 0, 0) // utoff 0, isdst 0, desigidx 0
	part = append(part, "UTC\x00"...)
	out := append(append([]byte{}, part...), part...)
	return append(out, "\nUTC0\n"...)
}

// busyboxRootfs is the official image's tree around a busybox binary and
// the names of its applets.
func busyboxRootfs(busybox []byte, applets []string) map[string]ociimage.File {
	dir := func(mode fs.FileMode, uid int) ociimage.File {
		return ociimage.File{Mode: fs.ModeDir | mode, UID: uid, GID: uid}
	}
	files := map[string]ociimage.File{
		"/bin/busybox":         {Data: busybox, Mode: 0o755},
		"/dev":                 dir(0o755, 0),
		"/etc":                 dir(0o755, 0),
		"/etc/group":           {Data: []byte(busyboxGroup), Mode: 0o644},
		"/etc/localtime":       {Data: tzifUTC(), Mode: 0o644},
		"/etc/nsswitch.conf":   {Data: []byte(busyboxNsswitch), Mode: 0o644},
		"/etc/passwd":          {Data: []byte(busyboxPasswd), Mode: 0o644},
		"/etc/shadow":          {Data: []byte(busyboxShadow), Mode: 0o600},
		"/home":                dir(0o755, 65534), // nobody's home
		"/root":                dir(0o700, 0),
		"/tmp":                 dir(0o777|fs.ModeSticky, 0),
		"/usr/bin/env":         {Link: "../../bin/env"},
		"/usr/sbin":            dir(0o755, 1), // daemon's home
		"/var/spool/mail":      dir(0o755, 8), // mail's home
		"/var/www":             dir(0o755, 0),
		"/etc/network/if-up.d": dir(0o755, 0),
	}
	for _, d := range []string{"if-down.d", "if-post-down.d", "if-pre-up.d"} {
		files["/etc/network/"+d] = dir(0o755, 0)
	}
	for _, a := range applets {
		if a != "busybox" {
			files["/bin/"+a] = ociimage.File{Hardlink: "/bin/busybox"}
		}
	}
	return files
}
