// Package distro is the typed "distro" axis: a catalog of Linux
// distributions (Debian 11/12/13, Ubuntu 22.04/24.04, Fedora, Rocky,
// AlmaLinux, Azure Linux) with what a package test needs to know of each —
// its image, package format, glibc version, the qemu-img it ships, and the
// commands that install a package file or a named package.
//
// [Axis] builds the axis from catalog ids ("debian-12"); an unknown id is an
// error naming it. [From] reads the cell's distribution back from a sandbox.
// [GlibcFloor] reads the newest GLIBC_x.y version an ELF binary needs
// (debug/elf, no tools run), and [CanRun] says whether a distribution's
// glibc satisfies it.
package distro
