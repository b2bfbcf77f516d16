package qemuimg

import (
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
	}{
		{"qemu-img version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n",
			Version{7, 2, 22, "Debian 1:7.2+dfsg-7+deb12u18+b3"}},
		{"qemu-img version 5.2.0 (Debian 1:5.2+dfsg-11+deb11u3)\nCopyright (c) 2003-2020 Fabrice Bellard and the QEMU Project developers\n",
			Version{5, 2, 0, "Debian 1:5.2+dfsg-11+deb11u3"}},
		{"qemu-img version 10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)\n", Version{10, 0, 13, "Debian 1:10.0.13+ds-0+deb13u1"}},
		{"qemu-img version 8.2.0 (qemu-kvm-8.2.0-11.el9_4.3)\nCopyright (c) 2003-2023 Fabrice Bellard and the QEMU Project developers", Version{8, 2, 0, "qemu-kvm-8.2.0-11.el9_4.3"}},
		{"qemu-img version 9.1\n", Version{9, 1, 0, ""}},
		{"\n  qemu-img version 6.2.0 (Debian 1:6.2+dfsg-2ubuntu6.22)  \n", Version{6, 2, 0, "Debian 1:6.2+dfsg-2ubuntu6.22"}},
		{"qemu-img version 1.5.3, Copyright (c) 2004-2008 Fabrice Bellard", Version{1, 5, 3, ""}},
	} {
		got, err := ParseVersion(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseVersion(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseVersionGarbage(t *testing.T) {
	for _, in := range []string{
		"", "\n\n", "qemu-img version", "qemu-img version x.y.z", "qemu-img version 7",
		"qemu-img version 0.0.0", "qemu-img version 0.0", "qemu-img: command not found",
		"QEMU emulator version 7.2.0", "qemu-img version 7.2.22 trailing junk",
		"qemu-img version 7.2.22 (unclosed", "Copyright (c) 2003-2022\nqemu-img version 7.2.0",
		"qemu-img version 99999.1.0", "qemu-img version -1.2.3",
	} {
		v, err := ParseVersion(in)
		if err == nil {
			t.Errorf("ParseVersion(%q) = %+v, want an error", in, v)
			continue
		}
		if !strings.Contains(err.Error(), "qemu-img --version") {
			t.Errorf("ParseVersion(%q): error %q does not say what was parsed", in, err)
		}
		if !v.IsZero() {
			t.Errorf("ParseVersion(%q) returned %+v with its error", in, v)
		}
	}
}

func FuzzParseVersion(f *testing.F) {
	f.Add("qemu-img version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n")
	f.Add("qemu-img version 8.2.0 (qemu-kvm-8.2.0-11.el9_4.3)")
	f.Add("qemu-img version 9.1")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			if !v.IsZero() || v.Package != "" {
				t.Fatalf("error %v came with version %+v", err, v)
			}
			return
		}
		if v.IsZero() {
			t.Fatalf("ParseVersion(%q) = zero version without error", s)
		}
		// The printed form parses back to the same version.
		back, err := ParseVersion("qemu-img version " + v.Long())
		if err != nil || back != v {
			t.Fatalf("round trip of %q: %+v -> %q -> %+v, %v", s, v, v.Long(), back, err)
		}
	})
}

func TestVersionOrder(t *testing.T) {
	vs := []string{"5.2", "5.2.1", "7.2.22", "10.0", "10.0.13"}
	for i := range vs {
		for j := range vs {
			a, b := MustVersion(vs[i]), MustVersion(vs[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", a, b, got, want)
			}
		}
	}
	if _, err := ParseNumber("7.2 (x)"); err == nil {
		t.Error("ParseNumber accepted a package string")
	}
}
