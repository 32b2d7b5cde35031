#!/usr/bin/env bash
# Step 10, rootfs: the Debian root file system as a tarball from mmdebstrap (minbase + the
# target's packages + the kiosk .deb's dependencies), cached in $ZIZHU_IMAGE_CACHE under a key of
# its inputs (suite, architecture, package lists, sources, time), so later builds skip it; a
# cached tarball lacking a dependency of the current .deb is rebuilt. Package sources come from the build host's apt
# configuration. No mounts: mmdebstrap runs in unshare mode when it can.
set -euo pipefail
source "$ZZ_IMAGES/lib/common.sh"

pkgs=$(zz_list "$ZZ_IMAGES/recipe/packages/common.list" "$ZZ_IMAGES/recipe/packages/$ZZ_TARGET.list" |
        sort -u | tr '\n' ',' | sed 's/,$//')
sources=$(zz_host_sources "$SUITE" "$COMPONENTS")
[ -n "$sources" ] || zz_die "the build host's apt configuration has no $SUITE sources"
# A foreign architecture (arm64 on an amd64 host) runs every maintainer script under qemu-user,
# where building the initramfs is what costs most (66 minutes with Debian's MODULES=most, about
# 2 with the pi4 target's module list, see benches/README.md): it is diverted
# to a no-op while packages install (the kernel, initramfs-tools' trigger and udev would each
# run it) and built once at the end, which also runs raspi-firmware's hook copying it to
# /boot/firmware. Slower emulation work than that is kept out by the minbase variant and the
# path excludes below (no man pages, docs or locales, so no man-db trigger).
hooks=()
# The target's initramfs-tools configuration (pi4: images/overlay/pi4/etc/initramfs-tools, a
# short module list instead of MODULES=most) goes in before the kernel is installed, so the
# initramfs is built with it on any build host; its content is part of the cache key.
initramfs_conf="$ZZ_IMAGES/overlay/$ZZ_TARGET/etc/initramfs-tools"
initramfs_sum=""
if [ -d "$initramfs_conf" ]; then
  initramfs_sum=$(cd "$initramfs_conf" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  hooks+=(--essential-hook="mkdir -p \"\$1/etc/initramfs-tools\" && cp -r \"$initramfs_conf/.\" \"\$1/etc/initramfs-tools/\"")
fi
host_arch=$(dpkg --print-architecture)
if [ "$ARCH" != "$host_arch" ]; then
  if ! arch-test "$ARCH" >/dev/null 2>&1; then
    # binfmt_misc may be unmounted or qemu's entry disabled (containers, fresh machines).
    mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
    update-binfmts --enable "qemu-$(zz_qemu_arch "$ARCH")" 2>/dev/null || true
    arch-test "$ARCH" >/dev/null 2>&1 ||
      zz_die "this $host_arch host cannot run $ARCH programs: apt-get install qemu-user-static binfmt-support arch-test, and make sure binfmt_misc is mounted (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc)"
  fi
  hooks+=(--essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && printf "#!/bin/sh\nexit 0\n" > "$1/usr/sbin/update-initramfs" && chmod 755 "$1/usr/sbin/update-initramfs"'
         --customize-hook='rm -f "$1/usr/sbin/update-initramfs" && chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs && chroot "$1" update-initramfs -c -k all')
fi
key=$(printf '%s\n' "$SUITE" "$ARCH" "$COMPONENTS" "$pkgs" "$SOURCE_DATE_EPOCH" "$sources" \
        "$(mmdebstrap --version)" "${hooks[@]//"$ZZ_IMAGES"/images}" ${initramfs_sum:+"$initramfs_sum"} | sha256sum | cut -c1-16)
tarball="$ZIZHU_IMAGE_CACHE/rootfs-$ZZ_TARGET-$ARCH-$key.tar"
echo "$tarball" > "$ZZ_WORK/rootfs.path"

# The kiosk .deb's dependencies must be in the tarball (dpkg installs it offline in step 30).
missing_deps() {
  local status
  status=$(tar -xOf "$tarball" ./var/lib/dpkg/status)
  zz_deb_depends "$ZZ_DEB" | while read -r dep; do
    grep -qx "Package: $dep" <<< "$status" || echo "$dep"
  done
}
if [ -s "$tarball" ] && [ "${ZZ_REFRESH:-0}" != 1 ]; then
  extra=$(missing_deps | tr '\n' ',' | sed 's/,$//')
  if [ -z "$extra" ]; then
    zz_log "cached root tarball $(basename "$tarball")"
    exit 0
  fi
  zz_log "the cached tarball lacks $extra (the .deb's dependencies); rebuilding with them"
  pkgs="$pkgs,$extra"
else
  extra=$(zz_deb_depends "$ZZ_DEB" | tr '\n' ',' | sed 's/,$//')
  [ -n "$extra" ] && pkgs="$pkgs,$extra"
fi
mkdir -p "$ZIZHU_IMAGE_CACHE"
mode=unshare
if ! unshare --user --map-root-user true 2>/dev/null; then mode=root; fi
zz_log "mmdebstrap $SUITE/$ARCH ($mode mode): $pkgs"
t0=$(zz_now)
printf '%s\n' "$sources" |
  mmdebstrap --mode="$mode" --variant=minbase --architectures="$ARCH" \
    --include="$pkgs" --aptopt='Acquire::Retries "3"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    "${hooks[@]}" --format=tar "$SUITE" "$tarball.tmp" - >&2
mv "$tarball.tmp" "$tarball"
zz_log "root tarball built in $(zz_since "$t0") s: $(du -h "$tarball" | cut -f1)"
# Keep the cache small: drop older tarballs of this target.
find "$ZIZHU_IMAGE_CACHE" -maxdepth 1 -name "rootfs-$ZZ_TARGET-$ARCH-*.tar" ! -path "$tarball" -delete
