package repoconfig

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FileName is the name of the per-repo config file Run looks for.
const FileName = "matrixbox.yaml"

// Env names the config file explicitly; "none" disables the search.
const Env = "MATRIXBOX_CONFIG"

// maxConfigSize bounds a config file: a few hundred lines are plenty, and
// a path such as /dev/zero must not fill the memory.
const maxConfigSize = 1 << 20

// Find returns the config file for a Run started in dir: the file
// named by MATRIXBOX_CONFIG, else the nearest matrixbox.yaml from dir up to
// the module root (the first directory holding go.mod). It returns "" when
// there is none.
func Find(dir string) (string, error) {
	if p := os.Getenv(Env); p != "" {
		if p == "none" {
			return "", nil
		}
		if err := checkConfigFile(p); err != nil {
			return "", fmt.Errorf("%s: %w", Env, err)
		}
		return p, nil
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, FileName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return "", nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", nil
		}
		dir = up
	}
}

// checkConfigFile refuses what is not a regular file of a sane size,
// before anything opens it: opening a fifo blocks until a writer comes,
// and a device such as /dev/zero never ends.
func checkConfigFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("config %s: not a regular file (%s)", path, fileKind(st.Mode()))
	}
	if st.Size() > maxConfigSize {
		return fmt.Errorf("config %s: larger than the %d bytes a config file may have (%d bytes)", path, maxConfigSize, st.Size())
	}
	return nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}

// Load reads and checks a config file: a regular file of at most
// 1 MiB.
func Load(path string) (*File, error) {
	if err := checkConfigFile(path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	// The file may have grown since it was checked.
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("config %s: larger than the %d bytes a config file may have", path, maxConfigSize)
	}
	return Parse(path, data)
}
