#!/usr/bin/env bash
# Installs what the full matrixbox test suite needs on a fresh Debian 12
# machine, as root. Safe to run again: it skips what is already there.
set -euo pipefail

need_pkgs=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "install.sh: installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi

# qemu-user-static registers its handlers through binfmt-support, which needs
# binfmt_misc mounted; containers and minimal machines often lack the mount.
if dpkg-query -W -f='${Status}' qemu-user-static 2>/dev/null | grep -q "install ok installed"; then
  if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || echo "install.sh: cannot mount binfmt_misc; emulated platform cells will skip"
  fi
  if [ -e /proc/sys/fs/binfmt_misc/status ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable >/dev/null 2>&1 || echo "install.sh: update-binfmts failed; emulated platform cells will skip"
  fi
fi
