package daemons

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// RootlessUser is the unprivileged user the rootless workers run their
// daemons as, under RootlessKit. `matrixbox install` makes it: a system
// user with no home and no login shell, so that no one's own account
// (uid 1000 is often a person's) holds the daemons' files.
const RootlessUser = "matrixbox"

// SubIDCount is how many subordinate uids and gids RootlessUser gets
// (those of /etc/subuid and /etc/subgid): 65536, the ids of a whole
// image, as BuildKit's own images and useradd give.
const SubIDCount = 65536

func init() {
	setupSteps = append(setupSteps, func(ctx context.Context, in *Installer) error { return in.setupRootlessUser(ctx, "") })
}

// setupRootlessUser makes RootlessUser and gives it SubIDCount
// subordinate uids and gids, where it lacks them, in the /etc files under
// prefix ("" for this machine's own, as useradd's --prefix); it keeps
// what is there.
func (in *Installer) setupRootlessUser(ctx context.Context, prefix string) error {
	etc := func(name string) string { return filepath.Join(prefix, "/etc", name) }
	asRoot := func(what string) error {
		return fmt.Errorf("%s needs root: run %s as root", what, InstallCommand)
	}
	// With a prefix, useradd and usermod change the files under it.
	var prefixArgs []string
	if prefix != "" {
		prefixArgs = []string{"--prefix", prefix}
	}
	u, found, err := lookupPasswd(etc("passwd"), RootlessUser)
	if err != nil {
		return err
	}
	if !found {
		if os.Geteuid() != 0 {
			return asRoot("making the user " + RootlessUser + " of the rootless workers")
		}
		args := append(prefixArgs, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
			"--shell", "/usr/sbin/nologin", "--comment", "matrixbox rootless workers", RootlessUser)
		if err := in.run(ctx, os.Environ(), "useradd", args...); err != nil {
			return fmt.Errorf("make the user %s of the rootless workers: %w", RootlessUser, err)
		}
		if u, found, err = lookupPasswd(etc("passwd"), RootlessUser); err != nil || !found {
			return fmt.Errorf("useradd made no user %s in %s (%v)", RootlessUser, etc("passwd"), err)
		}
		in.say("made the user %s (uid %s, gid %s) that the rootless workers run as", RootlessUser, u.uid, u.gid)
	} else {
		in.say("the user %s of the rootless workers is there (uid %s, gid %s)", RootlessUser, u.uid, u.gid)
	}
	var errs []error
	for _, ids := range []struct{ file, kind, flag string }{
		{etc("subuid"), "uids", "--add-subuids"},
		{etc("subgid"), "gids", "--add-subgids"},
	} {
		rs, err := readSubIDs(ids.file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if has := countSubIDs(rs, RootlessUser, u.uid); has >= SubIDCount {
			in.say("%s has %d subordinate %s in %s", RootlessUser, has, ids.kind, ids.file)
			continue
		}
		if os.Geteuid() != 0 {
			errs = append(errs, asRoot("giving "+RootlessUser+" subordinate "+ids.kind))
			continue
		}
		first := firstFree(rs, subIDMin, SubIDCount)
		span := fmt.Sprintf("%d-%d", first, first+SubIDCount-1)
		if err := in.run(ctx, os.Environ(), "usermod", append(prefixArgs, ids.flag, span, RootlessUser)...); err != nil {
			errs = append(errs, fmt.Errorf("give %s subordinate %s: %w", RootlessUser, ids.kind, err))
			continue
		}
		in.say("gave %s the subordinate %s %s in %s", RootlessUser, ids.kind, span, ids.file)
	}
	return errors.Join(errs...)
}

// subIDMin is where subordinate ids start (login.defs' SUB_UID_MIN).
const subIDMin = 100000

// passwdEntry is a user of /etc/passwd.
type passwdEntry struct{ uid, gid string }

// lookupPasswd finds the user name in the passwd file at path.
func lookupPasswd(path, name string) (passwdEntry, bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return passwdEntry{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 4 && f[0] == name {
			return passwdEntry{uid: f[2], gid: f[3]}, true, nil
		}
	}
	return passwdEntry{}, false, nil
}

// subIDRange is a line of /etc/subuid or /etc/subgid: name:first:count.
type subIDRange struct {
	owner        string
	first, count int
}

// readSubIDs parses a subordinate-id file; a file that does not exist
// has no ranges.
func readSubIDs(path string) ([]subIDRange, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	rs, err := parseSubIDs(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rs, nil
}

func parseSubIDs(r io.Reader) ([]subIDRange, error) {
	var out []subIDRange
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 {
			continue
		}
		first, err1 := strconv.Atoi(f[1])
		count, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || first < 0 || count <= 0 {
			continue
		}
		out = append(out, subIDRange{owner: f[0], first: first, count: count})
	}
	return out, sc.Err()
}

// SubIDs is how many subordinate ids the file at path (/etc/subuid or
// /etc/subgid) gives the user of that name or numeric id, as newuidmap
// reads it.
func SubIDs(path, name, id string) (int, error) {
	rs, err := readSubIDs(path)
	if err != nil {
		return 0, err
	}
	return countSubIDs(rs, name, id), nil
}

func countSubIDs(rs []subIDRange, name, id string) int {
	n := 0
	for _, r := range rs {
		if r.owner == name || r.owner == id {
			n += r.count
		}
	}
	return n
}

// firstFree is the lowest id from min such that [id, id+count) overlaps
// none of rs.
func firstFree(rs []subIDRange, min, count int) int {
	id := min
	for moved := true; moved; {
		moved = false
		for _, r := range rs {
			if id < r.first+r.count && r.first < id+count {
				id = r.first + r.count
				moved = true
			}
		}
	}
	return id
}
