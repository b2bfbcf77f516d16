// Package daemons is the table of the daemon versions matrixbox supports
// (BuildKit, containerd, moby) and how each is had: built from the Go
// module proxy into a directory of its own under the bin directory
// ($MATRIXBOX_BIN/<component>/<version>), or installed from the
// distribution's packages. The workers find their binaries through it, and
// `matrixbox install` installs from it.
package daemons
