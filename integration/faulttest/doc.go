// Package faulttest runs a real suite (testdata/suite) as a child go test
// and injects faults: signals, -timeout expiry, panics, os.Exit, a killed
// test process. After each it checks that no process of the run remains,
// nothing is mounted under its directories, no sandbox directory is left,
// and the child's output names the cause.
package faulttest
