package mirror

// muslToolchain is Debian's musl for one architecture, unpacked from its
// suite's musl-dev and musl packages: the specs that make that
// architecture's gcc compile and link against it alone (musl-dev's
// musl-gcc.specs, its paths moved to where it was unpacked), its static C
// library, and its shared C library, which is also its dynamic loader.
type muslToolchain struct {
	specs, libcA, libcSO string
}
