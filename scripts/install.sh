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
