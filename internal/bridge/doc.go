// Package bridge makes and removes the Linux bridges that matrixbox gives
// private daemons (a dockerd's default network), and finds the ones whose
// test process is gone.
//
// A bridge is named [NamePrefix]<n> and addressed 198.18.<n>.1/24 (n < 256;
// 198.18.0.0/15 is reserved for benchmarking networks, RFC 2544): the
// kernel refusing a second link of one name is what hands out n, so two
// test processes never pick the same subnet. Its alias (ifalias) names the
// owner, "matrixbox owner=<pid> sandbox=<dir>", so that a later run, or the
// guard of a test process that died, can delete what was left.
package bridge
