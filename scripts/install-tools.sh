#!/usr/bin/env bash
# Installs the daemons the matrixbox workers run, as root on Debian 12:
#   - Debian packages: runc, containerd (1.6, /usr/bin/containerd), docker.io
#     (dockerd 20.10), iptables (dockerd needs the binary even with
#     --iptables=false);
#   - built from the pinned Go modules of tools/go.mod: buildkitd and buildctl
#     (github.com/moby/buildkit v0.28.0), containerd and
#     containerd-shim-runc-v2 (github.com/containerd/containerd/v2 v2.2.1),
#     and distribution's registry (v3.1.2), which BuildKit's own harness runs
#     in the bench that compares matrixbox with it.
# The built binaries go to $MATRIXBOX_BIN (default /usr/local/lib/matrixbox/bin),
# a directory of their own so that containerd 2.2 does not shadow Debian's 1.6
# on PATH (dockerd starts whichever "containerd" PATH finds). The workers look
# there first. buildkitd and buildctl are also linked into /usr/local/bin.
# Safe to run again: a binary already built from the pinned version is kept.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${MATRIXBOX_BIN:-/usr/local/lib/matrixbox/bin}
GO=${GO:-go}

"$here/install.sh" runc containerd docker.io iptables

mkdir -p "$bin"
# module path, package, binary name, the variable that holds the version
build() {
  local mod=$1 pkg=$2 name=$3 vervar=$4 ver
  ver=$(cd "$root/tools" && "$GO" list -m -f '{{.Version}}' "$mod")
  if [ -x "$bin/$name" ] && "$GO" version -m "$bin/$name" 2>/dev/null |
      awk -v m="$mod" -v v="$ver" '($1=="mod" || $1=="dep") && $2==m && $3==v {f=1} END {exit !f}'; then
    echo "install-tools.sh: $bin/$name is $mod $ver already"
    return
  fi
  echo "install-tools.sh: building $name from $mod $ver"
  local start=$SECONDS
  (cd "$root/tools" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-X $vervar=$ver" -o "$bin/$name.new" "$pkg")
  mv "$bin/$name.new" "$bin/$name"
  echo "install-tools.sh: built $name in $((SECONDS - start))s"
}
bk=github.com/moby/buildkit ctd=github.com/containerd/containerd/v2
build $bk $bk/cmd/buildkitd buildkitd $bk/version.Version
build $bk $bk/cmd/buildctl buildctl $bk/version.Version
build $ctd $ctd/cmd/containerd containerd $ctd/version.Version
build $ctd $ctd/cmd/containerd-shim-runc-v2 containerd-shim-runc-v2 $ctd/version.Version
# The registry is built with its own module's requirements (go install
# pkg@version), so adding it does not move the daemons' dependencies.
dist=github.com/distribution/distribution/v3 distver=v3.1.2
if [ -x "$bin/registry" ] && "$GO" version -m "$bin/registry" 2>/dev/null |
    awk -v m="$dist" -v v="$distver" '$1=="mod" && $2==m && $3==v {f=1} END {exit !f}'; then
  echo "install-tools.sh: $bin/registry is $dist $distver already"
else
  echo "install-tools.sh: building registry from $dist $distver"
  start=$SECONDS
  CGO_ENABLED=0 GOBIN="$bin" "$GO" install -trimpath -ldflags "-X $dist/version.version=$distver" "$dist/cmd/registry@$distver"
  echo "install-tools.sh: built registry in $((SECONDS - start))s"
fi

if [ -w /usr/local/bin ]; then
  for n in buildkitd buildctl; do ln -sf "$bin/$n" "/usr/local/bin/$n"; done
fi
