package image

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"strings"
	"testing"
)

func TestParsePlatform(t *testing.T) {
	for in, want := range map[string]string{
		"linux/amd64": "linux/amd64", "linux/x86_64": "linux/amd64", "x86_64": "linux/amd64",
		"linux/amd64/v1": "linux/amd64", "linux/amd64/v3": "linux/amd64/v3",
		"linux/aarch64": "linux/arm64", "linux/arm64/v8": "linux/arm64", "linux/arm64/v9.2": "linux/arm64/v9.2",
		"linux/armv7l": "linux/arm/v7", "linux/arm": "linux/arm/v7", "linux/arm/6": "linux/arm/v6", "armhf": "linux/arm/v7",
		"linux/i686": "linux/386", "Linux/PPC64EL": "linux/ppc64le", "unknown/unknown": "unknown/unknown",
		"windows/amd64": "windows/amd64",
	} {
		p, err := ParsePlatform(in)
		if err != nil {
			t.Errorf("ParsePlatform(%q): %v", in, err)
			continue
		}
		if got := FormatPlatform(p); got != want {
			t.Errorf("ParsePlatform(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"":                  `unknown architecture ""`,
		"linux/sparc":       `unknown architecture "sparc"`,
		"plan10/amd64":      `unknown operating system "plan10"`,
		"linux/amd64/v9":    `unknown amd64 variant "v9"`,
		"linux/armv7l/v6":   "implies variant v7",
		"linux/riscv64/v1":  "has no variant",
		"linux/arm64/v8/x":  "want os/arch[/variant]",
		"linux/arm64/v10.1": `unknown arm64 variant`,
	} {
		_, err := ParsePlatform(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("ParsePlatform(%q) = %v, want an error naming the input and %q", in, err, want)
		}
	}
}

func TestCompatible(t *testing.T) {
	p := func(s string) ocispec.Platform { return mustPlatform(t, s) }
	if compatible(p("linux/amd64/v3"), p("linux/amd64/v2")) <= compatible(p("linux/amd64/v3"), p("linux/amd64")) {
		t.Error("amd64/v3 should prefer v2 over v1")
	}
	if compatible(p("linux/amd64"), p("linux/amd64/v3")) != 0 {
		t.Error("a v1 machine cannot run amd64/v3")
	}
	if compatible(p("linux/arm64"), p("linux/amd64")) != 0 {
		t.Error("arm64 is not amd64")
	}
}

// FuzzParsePlatform: never panics, and what it accepts is a fixed point.
func FuzzParsePlatform(f *testing.F) {
	for _, s := range []string{"linux/amd64", "aarch64", "linux/arm/v7", "linux/amd64/v3", "windows/arm64/v8.1", "//", "linux/arm64/v9.9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePlatform(s)
		if err != nil {
			return
		}
		again, err := ParsePlatform(FormatPlatform(p))
		if err != nil {
			t.Fatalf("%q parsed to %s, which does not parse: %v", s, FormatPlatform(p), err)
		}
		if FormatPlatform(again) != FormatPlatform(p) || again.OS != p.OS || again.Variant != p.Variant {
			t.Fatalf("%q: %+v, reparsed %+v", s, p, again)
		}
	})
}
