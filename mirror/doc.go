// Package mirror is the registry mirror that every test process of a
// `go test ./...` run shares: an OCI distribution registry
// (github.com/distribution/distribution/v3, run in-process as a library) over
// one directory, with images put there from registries, local files and
// offline recipes.
//
// The lifecycle is httptest's: [New] (or the lazy, process-wide [Shared]),
// [Mirror.Start] for the host:port, [Mirror.Close]. [Mirror.Ensure] makes
// images present, each named by a target ("library/busybox:latest",
// "ghcr.io/owner/name:tag") and taken from a source:
//
//	docker.io/library/busybox:1.36    a registry, pulled through and pinned by digest
//	oci-layout:DIR-OR-TAR[@REF]       an OCI image layout (REF: ref name or digest)
//	docker-archive:TAR                a `docker save` tar
//	rootfs:DIR                        a root filesystem directory, as one layer
//	binary:PATH                       a static binary, the image's entrypoint
//	recipe:busybox                    linux/amd64+arm64, the official image's tree, built
//	                                  from Debian's busybox source (defconfig, static)
//	recipe:busybox?libc=musl          the same linked against Debian's musl (busybox:stable-musl)
//	recipe:alpine                     that musl busybox in Alpine 3.17's tree, with
//	                                  /etc/alpine-release and an apk that installs nothing
//	recipe:debian:12?packages=a,b     debootstrap --variant=minbase (11, 12, 13)
//
// # Sharing one directory between processes
//
// Each process runs its own registry server over the directory, so readers
// never wait. Writers (Ensure, when an image is missing) take an exclusive
// flock on DIR/lock, with a timeout ([WithLockTimeout]) and an error that
// names the lock file and its holder's pid ([ErrLockTimeout]). Blobs reach
// the directory by rename, so a reader sees all of a blob or none; an image
// is recorded present (DIR/images/*.json, written atomically) only after
// every blob of it was pushed, verified against its digest and found in
// place; a warm hit is that marker plus a check of each blob, and copies
// nothing. A process killed mid-copy leaves upload debris that the next
// lock holder removes. DIR/copies.log has one line per copy ever made.
//
// Recipes are built once per mirror directory (DIR/recipes, under a lock of
// their own, so a long build holds up no copy of another image), and what
// they compile (busybox) once per machine, in the user's cache directory
// (matrixbox/builds), so a fresh mirror directory only lays out the image.
//
// # What the server serves
//
// The server is read-only: a client gets GET and HEAD, and any write (a
// blob upload, a manifest put, a delete) is refused with 405; Ensure
// writes the directory through the registry library's storage API in its
// own process, where no client reaches. It serves only the images this
// Mirror's Ensure made present in this process, the images the process
// declared: each declared tag answers the manifest Ensure recorded for it
// for as long as the process runs, whatever the tag's link in the
// directory says by then, and a blob or manifest is served by digest only
// in a repository of a declared image that holds it. Anything else, an
// image another process copied into the shared directory above all, is
// refused with an error that names the image and
// integration.WithMirroredImages; [Mirror.RefusedSince] lists the
// refusals, and integration.Run fails on them. Test processes that share a
// fixed port (MATRIXBOX_MIRROR_LISTEN=host:port) serve what any of them
// declared (DIR/declared).
//
// Remote references are offline-first: once copied, the marker answers
// without asking the registry again. Credentials come from the docker client
// config (auths entries and credential helpers).
//
// # Damaged blobs
//
// A blob file found intact has its identity recorded, per blob, in
// DIR/verified: size, device, inode, mtime and ctime. A later check that
// finds the same file unchanged trusts it for the cost of a stat and a
// small read; any other file (written to, restored by `cp -a` or tar,
// never checked on this machine) is hashed once. A damaged blob is
// removed, so the image is no longer present and Ensure copies it again.
// The mirror's server checks each blob and manifest the same way before
// serving it and refuses a damaged one with an error naming it; the
// refusals are listed by [Mirror.Damaged], and integration.Run puts them
// in a failing case's log. [Mirror.Verify] hashes everything, for damage
// no file identity shows (bit rot). Identities are trusted on Linux only;
// elsewhere every check hashes.
//
// # Layout of the served registry
//
// Images of docker.io sit at the root (ADDR/library/busybox); those of any
// other registry under a first path element naming it
// (ADDR/ghcr.io/owner/name), see [RepoPrefix]. [Mirror.Hosts] lists every
// registry host Ensure was asked for, so that daemon configuration can
// mirror each of them, not only docker.io.
//
// The registry library logs through logrus; each server gets a logger of
// its own (the shared mirror's to [WithLog], default discarded; a private
// registry's to the writer given to [NewRegistry]), leaving logrus's global
// logger alone.
package mirror
