package integration

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/sandbox"
)

// unreachableMirror serves nothing: every image is unavailable.
type unreachableMirror struct{}

func (unreachableMirror) Start(context.Context) (string, error) { return "127.0.0.1:9", nil }
func (unreachableMirror) Ensure(_ context.Context, images map[string]string) error {
	for name := range images {
		return errors.New("cannot get " + name)
	}
	return nil
}
func (unreachableMirror) NewRegistry(context.Context, string, io.Writer) (string, func() error, error) {
	return "", nil, errors.New("no registry")
}

func init() {
	scenarios["mirror-filtered"] = func(t *testing.T) {
		Run(t, []Test{NewTest("TestNeedsImage", testNothing)},
			WithMirror(unreachableMirror{}), WithMirroredImages(map[string]string{"library/x:latest": "docker.io/library/x:latest"}))
		Run(t, []Test{NewTest("TestNoImage", func(*testing.T, sandbox.Sandbox) {})})
	}
}

func TestMirrorPreparedOnlyForCasesThatRun(t *testing.T) {
	out, ok := runChild(t, "mirror-filtered", nil, "-test.run=^TestChild$/^TestNoImage/")
	if !ok || len(caseLines(out, "PASS")) != 1 {
		t.Errorf("a Run whose cases -run filters out must not mirror its images: passed=%v\n%s", ok, out)
	}
	out, ok = runChild(t, "mirror-filtered", nil, "-test.run=^TestChild$/^TestNeedsImage/")
	if ok || !strings.Contains(out, "cannot get library/x:latest") || len(caseLines(out, "FAIL")) != 1 {
		t.Errorf("the case of a Run whose image cannot be had must fail naming it: passed=%v\n%s", ok, out)
	}
}
