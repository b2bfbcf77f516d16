package testkit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// WriteFile writes data to path with mode 0644, making its parent
// directories, or fails t.
func WriteFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// WriteFiles writes a tree of files under dir: each key is a slash path
// relative to dir, its value the file's content.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		WriteFile(t, filepath.Join(dir, filepath.FromSlash(name)), data)
	}
}

// ReadFile returns the content of path, or fails t.
func ReadFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ReadJSON decodes the JSON file at path into v, or fails t naming the
// file.
func ReadJSON(t testing.TB, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(ReadFile(t, path)), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
