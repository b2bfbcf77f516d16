package doccheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// external is a package from outside the module (the standard library or a
// dependency), read from the source the go command finds for it.
type external struct {
	syms symbols
	err  error // the package could not be found or read
}

// loadExternal finds the directories of the import paths with one
// `go list -find` run in root, and reads the declarations of every non-test
// Go file of each.
func loadExternal(root string, paths []string) (map[string]*external, error) {
	out := map[string]*external{}
	if len(paths) == 0 {
		return out, nil
	}
	args := append([]string{"list", "-find", "-e", "-json=ImportPath,Dir,Error"}, paths...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	dec := json.NewDecoder(bytes.NewReader(stdout))
	for {
		var p struct {
			ImportPath string
			Dir        string
			Error      *struct{ Err string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list: %w", err)
		}
		ext := &external{}
		switch {
		case p.Error != nil:
			ext.err = errors.New(p.Error.Err)
		case p.Dir == "":
			ext.err = errors.New("no directory")
		default:
			ext.syms, ext.err = readDir(p.Dir)
		}
		out[p.ImportPath] = ext
	}
	for _, p := range paths {
		if out[p] == nil {
			out[p] = &external{err: errors.New("not listed by go list")}
		}
	}
	return out, nil
}

// readDir collects the symbols of the non-test Go files in dir, whatever
// their build constraints.
func readDir(dir string) (symbols, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return symbols{}, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			continue // a file that does not parse (a generator template) declares nothing
		}
		if strings.HasSuffix(f.Name.Name, "_test") {
			continue
		}
		files = append(files, f)
	}
	return collectSymbols(files), nil
}
