package platform

import (
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParseNormalForm(t *testing.T) {
	for in, want := range map[string]string{
		"linux/amd64": "linux/amd64", "linux/x86_64": "linux/amd64", "linux/amd64/v1": "linux/amd64",
		"linux/amd64/v3": "linux/amd64/v3", "linux/amd64/3": "linux/amd64/v3",
		"linux/aarch64": "linux/arm64", "linux/arm64/v8": "linux/arm64", "linux/aarch64/8": "linux/arm64",
		"linux/arm64/v9.0": "linux/arm64/v9", "linux/arm64/v9.2": "linux/arm64/v9.2",
		"linux/armv7l": "linux/arm/v7", "linux/arm": "linux/arm/v7", "linux/arm/6": "linux/arm/v6", "linux/armhf": "linux/arm/v7",
		"linux/armel": "linux/arm/v5", "linux/i686": "linux/386", "Linux/PPC64EL": "linux/ppc64le",
		"unknown/unknown": "unknown/unknown", "windows/amd64": "windows/amd64", "macos/arm64": "darwin/arm64",
		"linux/riscv64/rva23u64": "linux/riscv64/rva23u64",
	} {
		p, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if got := Format(p); got != want {
			t.Errorf("Parse(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "want os/arch",
		"x86_64":            "want os/arch",
		"linux/sparc":       `unknown architecture "sparc"`,
		"plan10/amd64":      `unknown operating system "plan10"`,
		"linux/amd64/v9":    `unknown variant "v9" of amd64`,
		"linux/armv7l/v6":   "implies variant v7",
		"linux/riscv64/v1":  `unknown variant "v1" of riscv64`,
		"linux/s390x/v2":    "architecture s390x has no variants",
		"linux/arm64/v8/x":  "want os/arch[/variant]",
		"linux/arm64/v10.1": `unknown variant "v10.1" of arm64`,
		"linux/amd64/":      "empty variant",
		"linux/*":           "wildcards",
	} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("Parse(%q) = %v, want an error naming the input and %q", in, err, want)
		}
	}
}

func TestSame(t *testing.T) {
	p := func(os, arch, variant string) ocispec.Platform {
		return ocispec.Platform{OS: os, Architecture: arch, Variant: variant}
	}
	if !Same(p("linux", "aarch64", "v8"), p("linux", "arm64", "")) {
		t.Error("linux/aarch64/v8 is linux/arm64")
	}
	if Same(p("linux", "amd64", "v3"), p("linux", "amd64", "")) {
		t.Error("amd64/v3 is not amd64")
	}
	if Same(p("linux", "sparc", ""), p("linux", "sparc", "")) {
		t.Error("a platform that does not normalise is the same as nothing")
	}
}

// TestRank: BuildKit's variant fallback, which image selection follows.
func TestRank(t *testing.T) {
	p := func(s string) ocispec.Platform {
		t.Helper()
		x, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	v3 := p("linux/amd64/v3")
	if Rank(v3, p("linux/amd64/v2")) <= Rank(v3, p("linux/amd64")) {
		t.Error("amd64/v3 should prefer v2 over v1")
	}
	if Rank(v3, v3) <= Rank(v3, p("linux/amd64/v2")) {
		t.Error("an exact match ranks highest")
	}
	if Rank(p("linux/amd64"), v3) != 0 {
		t.Error("a v1 machine cannot run amd64/v3")
	}
	if Rank(p("linux/arm64"), p("linux/amd64")) != 0 {
		t.Error("arm64 is not amd64")
	}
	haves := []ocispec.Platform{p("linux/arm64"), p("linux/amd64"), p("linux/amd64/v2")}
	if got := Best(v3, haves); got != 2 {
		t.Errorf("Best(amd64/v3) = %d, want 2 (amd64/v2)", got)
	}
	if got := Best(p("linux/s390x"), haves); got != -1 {
		t.Errorf("Best(s390x) = %d, want -1", got)
	}
}
