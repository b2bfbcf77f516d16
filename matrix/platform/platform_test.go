package platform

import (
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/matrixbox/matrixbox/matrix"
)

func TestAxisNames(t *testing.T) {
	a, err := Axis("linux/amd64", "linux/arm64", "linux/amd64/v3", "linux/x86_64/v2", "linux/aarch64/v8.2", "linux/arm/v7", "linux/386")
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "platform" {
		t.Errorf("axis name %q", a.Name)
	}
	want := []string{"linux-amd64", "linux-arm64", "linux-amd64-v3", "linux-amd64-v2", "linux-arm64-v8.2", "linux-arm-v7", "linux-386"}
	for i, v := range a.Values {
		if v.Name != want[i] {
			t.Errorf("value %d: name %q, want %q", i, v.Name, want[i])
		}
	}
	if p := a.Values[2].V.(ocispec.Platform); p.OS != "linux" || p.Architecture != "amd64" || p.Variant != "v3" {
		t.Errorf("linux/amd64/v3 parsed as %+v", p)
	}
	cells, err := matrix.Expand(a)
	if err != nil {
		t.Fatal(err)
	}
	if got := cells[2].Name(); got != "platform=linux-amd64-v3" {
		t.Errorf("cell name %q", got)
	}
	if got := From(cells[1]); Format(got) != "linux/arm64" {
		t.Errorf("From(cell) = %s", Format(got))
	}
}

func TestAxisErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"linux/amd64/v9", `unknown variant "v9" of amd64`},
		{"linux/sparc99", `unknown architecture "sparc99"`},
		{"plan10/amd64", `unknown operating system "plan10"`},
		{"amd64", `"amd64": want os/arch`},
		{"linux", `"linux": want os/arch`},
		{"", `"": want os/arch`},
		{"linux/", `"linux/"`},
		{"linux/amd64/v3/x", `"linux/amd64/v3/x"`},
		{"linux/*", `"linux/*"`},
		{"linux/s390x/v2", `architecture s390x has no variants`},
		{"windows(10.0)/amd64", `"windows(10.0)/amd64"`},
	} {
		_, err := Axis("linux/arm64", tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Axis(%q): error %v, want one containing %s", tc.in, err, tc.want)
		}
	}
	if _, err := Axis("linux/arm64", "linux/aarch64"); err == nil || !strings.Contains(err.Error(), "same platform linux/arm64") {
		t.Errorf("duplicate platform: %v", err)
	}
	if _, err := Axis(); err == nil {
		t.Error("empty axis accepted")
	}
}

type valuer map[string]any

func (v valuer) Value(axis string) any { return v[axis] }

func TestFromWithoutAxisIsHost(t *testing.T) {
	p := From(valuer{})
	m := thisMachine()
	if p.OS != m.os || p.Architecture != m.arch {
		t.Errorf("From(no axis) = %s, want this machine %s", Format(p), m)
	}
	if !Native(p) {
		t.Errorf("the host platform %s is not native", Format(p))
	}
	if got := From(valuer{"platform": "linux/arm64"}); Format(got) != "linux/arm64" {
		t.Errorf("string value: %s", Format(got))
	}
	if got := From(valuer{"platform": 42}); got.OS != "" {
		t.Errorf("int value gave %+v, want zero", got)
	}
}

func TestDecodeValue(t *testing.T) {
	v, err := DecodeValue("linux/amd64/v3")
	if err != nil || v.Name != "linux-amd64-v3" || v.V.(Platform).Variant != "v3" {
		t.Fatalf("DecodeValue(linux/amd64/v3) = %+v, %v", v, err)
	}
	a, _ := Axis("linux/amd64/v3")
	if a.Values[0].Name != v.Name {
		t.Errorf("config value named %q, code value %q: a config file could not select the code's value", v.Name, a.Values[0].Name)
	}
	if _, err := DecodeValue("linux/amd64/v9"); err == nil || !strings.Contains(err.Error(), `"linux/amd64/v9"`) {
		t.Errorf("DecodeValue(linux/amd64/v9) error %v does not name the value", err)
	}
}
