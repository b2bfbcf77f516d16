package platform

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzParse: a platform string parses to a platform whose value name is fit
// for a subtest name and parses back to the same platform, or it is an error
// that names the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"linux/amd64", "linux/arm64/v8", "linux/amd64/v3", "linux/arm/v7", "windows/amd64", "linux", "linux/amd64/v9", "/", "linux//", "Linux/AMD64"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("error %q does not name %q", err, s)
			}
			return
		}
		ax, err := Axis(s)
		if err != nil {
			t.Fatalf("Parse accepted %q but Axis refused it: %v", s, err)
		}
		name := ax.Values[0].Name
		if strings.ContainsAny(name, "/ =,|*") {
			t.Fatalf("value name %q of %q is not fit for a subtest name", name, s)
		}
		again, err := Parse(Format(p))
		if err != nil || Format(again) != Format(p) {
			t.Fatalf("%q: round trip %q -> %v, %v", s, Format(p), again, err)
		}
	})
}
