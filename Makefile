# The two commands of the README:
#   go test ./examples/...   the examples on the host worker, nothing to install
#   make test                installs what the full suite needs, then runs it
GO ?= go
# Debian packages the full suite's tests use besides the workers' (which
# `matrixbox install` installs): qemu-img and emulation, debootstrap
# for the offline distro images, busybox-static for a static busybox on the
# host, dpkg-dev for building .debs, chromium for rendering the report; and
# for recipe:busybox (compiled from Debian's busybox source for amd64 and
# arm64, against glibc, and against Debian's musl for busybox:stable-musl
# and recipe:alpine, whose packages the recipe fetches itself): make,
# patch, bzip2, gcc and libc6-dev, and the cross compiler and static C
# library (and kernel headers) for the host's other architecture; strace for the remote
# workers' tests (it records the signals a daemon receives).
BUSYBOX_CROSS_PACKAGES := $(if $(filter arm64,$(shell dpkg --print-architecture 2>/dev/null)),\
	gcc-x86-64-linux-gnu libc6-dev-amd64-cross,gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
DEB_PACKAGES ?= ca-certificates git qemu-utils qemu-user-static binfmt-support \
	debootstrap busybox-static dpkg-dev xz-utils zstd chromium gcc libc6-dev \
	make patch bzip2 strace $(BUSYBOX_CROSS_PACKAGES)

.PHONY: test install install-all check unit load buildkit-slice buildkit-suite recipe-reproducible

test: install check unit load buildkit-slice

# The workers' daemons in the default versions of the version table
# (`go run ./cmd/matrixbox install -list`), built from the Go module proxy
# into $$MATRIXBOX_BIN, and the packages they run with; then the packages
# the tests use.
install:
	$(GO) run ./cmd/matrixbox install
	./scripts/install.sh $(DEB_PACKAGES)

# Every version of the table, for suites that run them all.
install-all:
	$(GO) run ./cmd/matrixbox install all

# gofmt, go vet, and doc comments and Markdown that name only what exists
# (see internal/doccheck).
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above are not formatted"; exit 1; }
	$(GO) vet ./...
	$(GO) run ./internal/doccheck/cmd/doccheck

unit:
	$(GO) test -count=1 -timeout 30m ./...

# Three go test processes at once over one mirror, 400 cases each (about
# 4 minutes); see integration/loadtest.
load:
	MATRIXBOX_LOAD=1 $(GO) test -count=1 -run TestLoad -timeout 30m ./integration/loadtest/

# A fixed slice of BuildKit's own frontend/dockerfile and client suites
# (v0.34.2, the version table's default, copied out of the module cache at
# run time into a module that requires it) on matrixbox's compat layer,
# oci, containerd, dockerd and dockerd-containerd workers (moby v29.8.1),
# with no stand-in image: cases that pass on both harnesses here,
# TestCopyChown among them (not on dockerd, whose builtin frontend is its
# own older BuildKit's). About 10 minutes, most of it compiling the suites.
buildkit-slice:
	MATRIXBOX_BUILDKIT_SUITE=slice $(GO) test -count=1 -v -run TestBuildkitSuite -timeout 60m ./compat/buildkit/suite/

# The whole of both suites (v0.34.2; MATRIXBOX_BUILDKIT_SUITE_VERSION=v0.28.0
# for the older) on matrixbox, fresh and reset, and on BuildKit's own
# harness, side by side, on the version table's default daemons (hours):
# the benchmark behind the BuildKit-suite table of bench/RESULTS.md.
# Outputs go to $MATRIXBOX_BUILDKIT_SUITE_OUT.
buildkit-suite:
	MATRIXBOX_BUILDKIT_SUITE=1 $(GO) test -count=1 -v -run TestBuildkitSuite -timeout 600m ./compat/buildkit/suite/

# recipe:busybox built twice from nothing (fresh mirror directories and
# build caches, both architectures: tens of minutes on 2 cores), wanting
# the same digests: the recipe's reproducibility claim. Not part of
# `make test`, whose time it would double; run it when the recipe changes.
recipe-reproducible:
	MATRIXBOX_TEST_RECIPE_REBUILD=1 $(GO) test -count=1 -timeout 3h -v -run TestRecipeBusyboxReproducible ./mirror/
