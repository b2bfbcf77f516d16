package qemuimg

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Images are the disk images Record makes, by the name their outputs are
// recorded under. Every one is made from the same 4 MiB raw image holding
// two 64 KiB runs of data (at 0 and 1 MiB), so their maps are comparable.
var Images = []string{"raw", "qcow2", "qcow2-compressed", "qcow2-overlay", "vmdk", "vhdx"}

// recipe makes the images with relative file names in the working
// directory of the Img's commands, using qemu-img alone so that it works
// wherever qemu-img does.
var recipe = [][]string{
	{"create", "-q", "-f", "raw", "raw.img", "4M"},
	{"bench", "-q", "-w", "-c", "2", "-d", "1", "-s", "64k", "-S", "1M", "--pattern=171", "-f", "raw", "raw.img"},
	{"convert", "-O", "qcow2", "raw.img", "qcow2.img"},
	{"convert", "-c", "-O", "qcow2", "raw.img", "qcow2-compressed.img"},
	{"create", "-q", "-f", "qcow2", "-b", "qcow2.img", "-F", "qcow2", "qcow2-overlay.img"},
	{"bench", "-q", "-w", "-c", "1", "-s", "64k", "-o", "2M", "--pattern=205", "-f", "qcow2", "qcow2-overlay.img"},
	{"convert", "-O", "vmdk", "raw.img", "vmdk.img"},
	{"convert", "-O", "vhdx", "raw.img", "vhdx.img"},
	{"convert", "-O", "qcow2", "raw.img", "snapshot.img"},
	{"snapshot", "-c", "s1", "snapshot.img"},
}

// Record makes the Images with q in the working directory of its commands
// and returns what qemu-img printed about them, keyed by file name:
// "<image>.info.json", "<image>.info.txt", "<image>.map.json",
// "<image>.map.txt" (or that name with ".err" holding the exit status and
// standard error when qemu-img refused), plus "snapshot-list.txt" and "version.txt". The
// caller owns the working directory and removes the image files.
func Record(q *Img) (map[string][]byte, error) {
	for _, args := range recipe {
		if _, err := q.Run(args...); err != nil {
			return nil, fmt.Errorf("record qemu-img %s: %w", q.Version(), err)
		}
	}
	out := map[string][]byte{"version.txt": []byte(q.Version().Long() + "\n")}
	for _, name := range Images {
		for _, c := range []struct{ cmd, format, ext string }{
			{"info", "json", "json"}, {"info", "human", "txt"},
			{"map", "json", "json"}, {"map", "human", "txt"},
		} {
			key := name + "." + c.cmd + "." + c.ext
			cmd := q.Cmd(c.cmd, "--output="+c.format, name+".img")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					return nil, fmt.Errorf("record qemu-img %s: %s: %w", q.Version(), key, err)
				}
				// A refusal is behaviour too (map --output=human refuses
				// compressed clusters): record it instead of the output.
				key += ".err"
				stdout.Reset()
				fmt.Fprintf(&stdout, "exit status %d\n%s", exit.ExitCode(), stderr.String())
			}
			out[key] = stdout.Bytes()
		}
	}
	b, err := q.Run("snapshot", "-l", "snapshot.img")
	if err != nil {
		return nil, fmt.Errorf("record qemu-img %s: %w", q.Version(), err)
	}
	out["snapshot-list.txt"] = b
	return out, nil
}

// RecordedFiles are the image files Record leaves in the working directory.
func RecordedFiles() []string {
	files := []string{"snapshot.img"}
	for _, n := range Images {
		files = append(files, n+".img")
	}
	return files
}

// WriteBaseline writes outputs under dir/<version>/, replacing what was
// there, where version is X.Y.Z.
func WriteBaseline(dir string, v Version, outputs map[string][]byte) error {
	vdir := filepath.Join(dir, v.String())
	if err := os.RemoveAll(vdir); err != nil {
		return err
	}
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	for name, b := range outputs {
		if strings.ContainsAny(name, `/\`) {
			return fmt.Errorf("write baseline %s: bad output name %q", v, name)
		}
		if err := os.WriteFile(filepath.Join(vdir, name), b, 0o644); err != nil {
			return fmt.Errorf("write baseline %s: %w", v, err)
		}
	}
	return nil
}

// Baselines lists the versions recorded under dir (subdirectories named
// X.Y.Z), in ascending order. Entries with other names are ignored.
func Baselines(dir string) ([]Version, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("baselines: %w", err)
	}
	var vs []Version
	for _, de := range des {
		if !de.IsDir() {
			continue
		}
		if v, err := ParseNumber(de.Name()); err == nil && v.String() == de.Name() {
			vs = append(vs, v)
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Compare(vs[j]) < 0 })
	return vs, nil
}

// ErrNoBaseline is returned by SelectBaseline when every recorded version
// is newer than the one asked for.
var ErrNoBaseline = errors.New("no baseline at or below this version")

// SelectBaseline picks the recorded output to compare v against: the exact
// version, else the highest at or below v with the same major.minor, else
// the highest at or below v.
func SelectBaseline(recorded []Version, v Version) (Version, error) {
	var best, bestMinor Version
	for _, r := range recorded {
		if r.Compare(v) == 0 {
			return r, nil
		}
		if r.Compare(v) > 0 {
			continue
		}
		if r.Compare(best) > 0 || best.IsZero() {
			best = r
		}
		if r.SameMinor(v) && (r.Compare(bestMinor) > 0 || bestMinor.IsZero()) {
			bestMinor = r
		}
	}
	switch {
	case !bestMinor.IsZero():
		return bestMinor, nil
	case !best.IsZero():
		return best, nil
	}
	return Version{}, fmt.Errorf("qemu-img %s: %w (recorded: %s)", v, ErrNoBaseline, joinVersions(recorded))
}

// LoadBaseline reads dir/<version>/<name>.
func LoadBaseline(dir string, v Version, name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(dir, v.String(), name))
}

func joinVersions(vs []Version) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
