// Package testkit holds what matrixbox's own tests repeat, so that each of
// them is written once:
//
//   - running a test binary as a child process: the running one again
//     ([Self]) or a fixture package compiled with go test -c
//     ([BuildTest], [CompileTest]), to its end ([Run]) or in the
//     background with its output readable while it runs ([Start]); the
//     environment a child gets ([Environ]); the test2json stream of a run
//     ([JSONCommand], [Events]);
//   - waiting for a condition with a timeout in one line ([WaitFor],
//     [Poll]), which on timeout says what it waited for and the state it
//     last saw;
//   - small helpers: the go command ([GoCommand]), files written or read or
//     the test fails ([WriteFile], [WriteFiles], [ReadFile], [ReadJSON]),
//     the end of a long output ([Tail]).
//
// It imports only the standard library, so that the tests of every package
// (sandbox's too) can use it.
package testkit
