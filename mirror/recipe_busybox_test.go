package mirror

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEditConfig(t *testing.T) {
	in := "CONFIG_A=y\n# CONFIG_STATIC is not set\nCONFIG_FEATURE_SYNC_FANCY=y\nCONFIG_LAST_SUPPORTED_WCHAR=767\n"
	want := map[string]string{"CONFIG_STATIC": "y", "CONFIG_FEATURE_SYNC_FANCY": "", "CONFIG_LAST_SUPPORTED_WCHAR": "0", "CONFIG_INOTIFYD": "y"}
	out, err := editConfig([]byte(in), want, false)
	if err != nil {
		t.Fatal(err)
	}
	const edited = "CONFIG_A=y\nCONFIG_STATIC=y\n# CONFIG_FEATURE_SYNC_FANCY is not set\nCONFIG_LAST_SUPPORTED_WCHAR=0\n\nCONFIG_INOTIFYD=y"
	if string(out) != edited {
		t.Errorf("edited .config:\n%s\nwant:\n%s", out, edited)
	}
	if _, err := editConfig(out, want, true); err != nil {
		t.Errorf("check of the edited .config: %v", err)
	}
	// What make oldconfig would do to a symbol whose dependency is unmet.
	_, err = editConfig([]byte(strings.Replace(edited, "CONFIG_STATIC=y", "# CONFIG_STATIC is not set", 1)), want, true)
	if err == nil || !strings.Contains(err.Error(), "CONFIG_STATIC") {
		t.Errorf("check of a .config without CONFIG_STATIC: %v", err)
	}
	_, err = editConfig([]byte("CONFIG_A=y\n"), want, true)
	if err == nil || !strings.Contains(err.Error(), "CONFIG_INOTIFYD missing") {
		t.Errorf("check of a .config without the symbols: %v", err)
	}
}

func TestParseLinks(t *testing.T) {
	got, err := parseLinks([]byte("/usr/bin/ar\n/bin/[\n/usr/bin/[[\n/sbin/adduser\n/bin/ar\n"))
	if want := []string{"[", "[[", "adduser", "ar"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("parseLinks = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"ar\n", "/bin/\n", "/\n"} {
		if _, err := parseLinks([]byte(bad)); err == nil || !strings.Contains(err.Error(), "busybox.links") {
			t.Errorf("parseLinks(%q) = %v; want an error naming busybox.links", bad, err)
		}
	}
}

func TestChangelogTime(t *testing.T) {
	const cl = `busybox (1:1.35.0-4+deb12u1) bookworm; urgency=high

  * Non-maintainer upload.

 -- Some One <someone@debian.org>  Mon, 02 Mar 2026 07:59:41 +0100

busybox (1:1.35.0-4) unstable; urgency=medium

 -- Other <other@debian.org>  Sun, 6 Nov 2022 11:27:04 +0300
`
	got, err := changelogTime([]byte(cl))
	if want := time.Date(2026, 3, 2, 6, 59, 41, 0, time.UTC); err != nil || !got.Equal(want) {
		t.Errorf("changelogTime = %v, %v; want %v (the latest entry)", got, err, want)
	}
	for _, bad := range []string{"busybox (1) x; urgency=low\n", " -- A <a@b>  yesterday\n"} {
		if _, err := changelogTime([]byte(bad)); err == nil || !strings.Contains(err.Error(), "debian/changelog") {
			t.Errorf("changelogTime(%q) = %v; want an error naming debian/changelog", bad, err)
		}
	}
}

// TestTZifUTC: /etc/localtime is Debian's UTC zone file, byte for byte.
func TestTZifUTC(t *testing.T) {
	b := tzifUTC()
	loc, err := time.LoadLocationFromTZData("UTC", b)
	if err != nil {
		t.Fatal(err)
	}
	if name, off := time.Date(2024, 7, 1, 0, 0, 0, 0, loc).Zone(); name != "UTC" || off != 0 {
		t.Errorf("zone %s%+d, want UTC+0", name, off)
	}
	debian, err := os.ReadFile("/usr/share/zoneinfo/UTC")
	if err != nil {
		t.Skipf("no tzdata to compare with: %v", err)
	}
	if !bytes.Equal(b, debian) {
		t.Errorf("tzifUTC differs from /usr/share/zoneinfo/UTC:\n%q\n%q", b, debian)
	}
}

func TestScanDsc(t *testing.T) {
	const dsc = `-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

Format: 3.0 (quilt)
Source: busybox
Version: 1:1.35.0-4
Checksums-Sha256:
 faeeb244c35a348a334f4a59e44626ee870fb07b6884d68c10ae8bc19f83a694 2480624 busybox_1.35.0.orig.tar.bz2
 1cacbe095ef4880ea7879933c8e3c5075d1527cd6fbcb626a9b41e5daefd1a46 68028 busybox_1.35.0-4.debian.tar.xz
Files:
 585949b1dd4292b604b7d199866e9913 2480624 busybox_1.35.0.orig.tar.bz2

-----BEGIN PGP SIGNATURE-----

iQIzBAEBCgAdFiEE
-----END PGP SIGNATURE-----
`
	var files []debFile
	err := scanStanzas(strings.NewReader(dsc), func(st stanza) bool {
		if st["Source"] == "" {
			return false
		}
		var err error
		files, err = parseChecksums(st["Checksums-Sha256"])
		if err != nil {
			t.Error(err)
		}
		return true
	})
	want := []debFile{
		{"busybox_1.35.0.orig.tar.bz2", 2480624, "faeeb244c35a348a334f4a59e44626ee870fb07b6884d68c10ae8bc19f83a694"},
		{"busybox_1.35.0-4.debian.tar.xz", 68028, "1cacbe095ef4880ea7879933c8e3c5075d1527cd6fbcb626a9b41e5daefd1a46"},
	}
	if err != nil || !slices.Equal(files, want) {
		t.Errorf("files %+v, %v; want %+v", files, err, want)
	}
	for _, bad := range []string{"abc 1 x.tar", strings.Repeat("a", 64) + " 1 ../x.tar", strings.Repeat("a", 64) + " big x.tar"} {
		if _, err := parseChecksums("\n" + bad); err == nil || !strings.Contains(err.Error(), "Checksums-Sha256") {
			t.Errorf("parseChecksums(%q) = %v; want an error", bad, err)
		}
	}
}

// TestBusyboxRootfsUsers: every user of /etc/passwd has its group, its
// shadow entry and its home, owned as the official image owns them.
func TestBusyboxRootfsUsers(t *testing.T) {
	files := busyboxRootfs([]byte("ELF"), []string{"sh", "adduser"})
	groups := map[string]string{} // gid → name
	for _, line := range strings.Split(strings.TrimSpace(busyboxGroup), "\n") {
		f := strings.Split(line, ":")
		groups[f[2]] = f[0]
	}
	shadow := strings.Split(strings.TrimSpace(busyboxShadow), "\n")
	var users []string
	for i, line := range strings.Split(strings.TrimSpace(busyboxPasswd), "\n") {
		f := strings.Split(line, ":")
		if len(f) != 7 {
			t.Fatalf("passwd line %q", line)
		}
		users = append(users, f[0]+":"+f[2]+":"+f[3])
		if f[3] != "100" && groups[f[3]] != f[0] {
			t.Errorf("user %s: group %s is %q, want the user's own", f[0], f[3], groups[f[3]])
		}
		if !strings.HasPrefix(shadow[i], f[0]+":*:") {
			t.Errorf("shadow line %d = %q, want %s locked", i, shadow[i], f[0])
		}
		home := f[5]
		if _, ok := files[home]; !ok && home != "/bin" && home != "/var" {
			t.Errorf("user %s: home %s not in the tree", f[0], home)
		}
	}
	want := []string{"root:0:0", "daemon:1:1", "bin:2:2", "sys:3:3", "sync:4:100", "mail:8:8", "www-data:33:33", "operator:37:37", "nobody:65534:65534"}
	if !slices.Equal(users, want) {
		t.Errorf("users %q, want %q", users, want)
	}
	for p, uid := range map[string]int{"/home": 65534, "/usr/sbin": 1, "/var/spool/mail": 8, "/var/www": 0} {
		if f := files[p]; f.UID != uid || f.GID != uid {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, f.UID, f.GID, uid, uid)
		}
	}
	if files["/bin/sh"].Hardlink != "/bin/busybox" || files["/etc/shadow"].Mode != 0o600 {
		t.Errorf("/bin/sh %+v, /etc/shadow %+v", files["/bin/sh"], files["/etc/shadow"])
	}
}

// TestRecipeFingerprint: a mirror record carries the recipe's cache key, so
// an image an older recipe version recorded is not taken as present.
func TestRecipeFingerprint(t *testing.T) {
	s, err := parseRecipe("recipe:busybox")
	if err != nil {
		t.Fatal(err)
	}
	fp, err := s.fingerprint(t.Context())
	if r := s.(recipeSource); err != nil || fp == "" || fp != r.key() || !strings.HasPrefix(fp, "busybox-bookworm-") {
		t.Errorf("fingerprint %q, %v; want the key %q", fp, err, r.key())
	}
}
