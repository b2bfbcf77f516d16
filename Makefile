# The two commands of the README:
#   go test ./examples/...   the examples on the host worker, nothing to install
#   make test                installs what the full suite needs, then runs it
GO ?= go
# Debian packages the full suite uses.
DEB_PACKAGES ?= ca-certificates git chromium

.PHONY: test install check unit

test: install check unit

install:
	./scripts/install.sh $(DEB_PACKAGES)

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above are not formatted"; exit 1; }
	$(GO) vet ./...

unit:
	$(GO) test -count=1 -timeout 30m ./...
