// Package faulttest runs suites as child go test processes and injects
// faults: signals, -timeout expiry, panics, os.Exit, a killed test process,
// a killed daemon, a killed guard. testdata/suite runs a supervised fake
// daemon (sleepd) for the faults of the harness itself; testdata/realsuite
// runs buildkitd-oci, buildkitd-containerd, containerd and dockerd with work
// in flight (a RUN step, a running container). After each fault it checks
// that no process of the run remains (by cgroup, by the pids recorded
// before the fault, by the work's unique command line wherever it was
// re-parented), no cgroup, mount, directory or network bridge of the run is left,
// nothing of its daemons under the machine's /run (runc state, shim
// sockets, task fifos), no iptables rule was added — at once and 5 s later —
// and that the child's output names the cause. real_table_test.go holds the
// rows of issue 24 over workers, their daemons and the isolation level
// (fresh, reset, shared): a daemon killed mid-case, warm backends across
// Runs, a warm run killed, many killed runs (opt-in, FAULTTEST_KILLS).
package faulttest
