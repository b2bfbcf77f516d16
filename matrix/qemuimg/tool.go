package qemuimg

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// AxisName is the name of the qemu-img axis.
const AxisName = "qemu-img"

// Runner is what From needs of a sandbox: the cell's values and a command
// wired to it. sandbox.Sandbox satisfies it.
type Runner interface {
	Value(axis string) any
	Cmd(args ...string) *exec.Cmd
}

// Img is one qemu-img executable as seen from a sandbox.
type Img struct {
	r       Runner
	path    string
	version Version
}

// From returns the sandbox's qemu-img: the binary of the cell's qemu-img
// axis value when it has one, else "qemu-img" as the sandbox's commands find
// it (the host PATH on the host worker, the container's inside one). It runs
// `qemu-img --version` through sb.Cmd and fails when that does not run or
// does not parse.
func From(sb Runner) (*Img, error) {
	path := "qemu-img"
	switch b := sb.Value(AxisName).(type) {
	case Binary:
		path = b.Path
	case *Binary:
		if b != nil {
			path = b.Path
		}
	case string:
		path = b
	}
	return open(sb, path)
}

func open(r Runner, path string) (*Img, error) {
	q := &Img{r: r, path: path}
	out, err := q.Run("--version")
	if err != nil {
		return nil, err
	}
	v, err := ParseVersion(string(out))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	q.version = v
	return q, nil
}

// Version is what the binary reported.
func (q *Img) Version() Version { return q.version }

// Path is the executable as the sandbox's commands name it.
func (q *Img) Path() string { return q.path }

// Cmd returns the command `qemu-img args...` in the sandbox.
func (q *Img) Cmd(args ...string) *exec.Cmd {
	return q.r.Cmd(append([]string{q.path}, args...)...)
}

// Run runs qemu-img with args and returns its standard output. A failure
// carries the command line and standard error.
func (q *Img) Run(args ...string) ([]byte, error) {
	cmd := q.Cmd(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w: %s", q.path, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Info runs `qemu-img info --output=<format> file` (format "json" or
// "human").
func (q *Img) Info(format, file string) ([]byte, error) {
	return q.Run("info", "--output="+format, file)
}

// Map runs `qemu-img map --output=<format> file`.
func (q *Img) Map(format, file string) ([]byte, error) {
	return q.Run("map", "--output="+format, file)
}
