// Package workers provides the backends a matrixbox cell can run on. [Host]
// runs commands on the machine itself and needs no daemon.
package workers
