package mirror

import (
	"bytes"
	"debug/elf"
	"testing"

	"github.com/matrixbox/matrixbox/ociimage"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func platformOf(arch string) ocispec.Platform {
	return ocispec.Platform{OS: "linux", Architecture: arch}
}

// elfMachineIs checks that path in img is an ELF binary for arch.
func elfMachineIs(t *testing.T, img *ociimage.Image, path, arch string) {
	t.Helper()
	b, err := img.ReadFile(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if got := elfArch(f.Machine); got != arch {
		t.Errorf("%s in the %s image is built for %s (%v)", path, arch, got, f.Machine)
	}
}
