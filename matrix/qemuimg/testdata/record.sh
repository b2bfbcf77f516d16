#!/bin/sh
# Re-record the qemu-img baselines under matrix/qemuimg/testdata/<version>/.
#
#   matrix/qemuimg/testdata/record.sh [ROOTFS...]
#
# Records the host's qemu-img, plus the qemu-img inside each ROOTFS (a
# Debian tree made by `debootstrap --variant=minbase --include=qemu-utils
# bullseye DIR`), run through a wrapper that bind-mounts the working
# directory into ROOTFS/work in a private mount namespace (needs root), so
# nothing stays mounted afterwards.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
wrappers=$(mktemp -d)
trap 'rm -rf "$wrappers"' EXIT
paths=
for root in "$@"; do
	root=$(cd "$root" && pwd)
	mkdir -p "$root/work"
	w="$wrappers/$(basename "$root")-qemu-img"
	cat >"$w" <<EOS
#!/bin/sh
exec unshare -m sh -c 'mount --bind "\$PWD" "$root/work" && exec chroot "$root" /bin/sh -c "cd /work && exec qemu-img \"\\\$@\"" qemu-img "\$@"' sh "\$@"
EOS
	chmod +x "$w"
	paths="$paths${paths:+:}$w"
done
cd "$here/.."
MATRIXBOX_QEMU_IMG="$paths" MATRIXBOX_QEMUIMG_RECORD="$here" \
	go test -count=1 -v -run '^TestRecordBaselines$' .
