// Package loadtest checks that matrixbox stays bounded under load: three
// go test processes of a fixture suite (testdata/suite: 200 trivial cases on
// the host and containerd workers, MATRIXBOX_PARALLEL at twice the cores)
// run at once over one shared mirror directory. All cases must pass, each
// process's peak resident memory and open file descriptors stay under
// generous bounds that a leak would cross, and the mirror copies busybox
// once for all three. TestLoad runs only with MATRIXBOX_LOAD=1.
//
// The package's own API is the sampler the test uses: ReadUsage reads a
// process's open descriptors and peak resident memory from /proc, and Watch
// keeps their peaks while the process runs.
package loadtest
