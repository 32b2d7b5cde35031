#!/usr/bin/env bash
# Step 30, kiosk: install the zizhu .deb (dpkg inside the root; no network, its dependencies are
# already in the tarball), copy the overlay files (common, then the target's), enable the units.
# chroot is used as root; it mounts nothing.
set -euo pipefail
source "$ZZ_IMAGES/lib/common.sh"
cp "$ZZ_DEB" "$ZZ_ROOT/tmp/zizhu.deb"
chroot "$ZZ_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  dpkg --force-unsafe-io -i /tmp/zizhu.deb >&2
rm -f "$ZZ_ROOT/tmp/zizhu.deb"
for layer in common "$ZZ_TARGET"; do
  [ -d "$ZZ_IMAGES/overlay/$layer" ] && cp -a --no-preserve=ownership "$ZZ_IMAGES/overlay/$layer/." "$ZZ_ROOT/"
done
if [ "$ZZ_TARGET" = pi4 ]; then
  install -D -m 0644 "$ZZ_IMAGES/rauc/system.conf" "$ZZ_ROOT/etc/rauc/system.conf"
  install -D -m 0755 "$ZZ_IMAGES/rauc/rauc-tryboot" "$ZZ_ROOT/usr/lib/zizhu/rauc-tryboot"
  install -D -m 0755 "$ZZ_IMAGES/rauc/rauc-post-install" "$ZZ_ROOT/usr/lib/zizhu/rauc-post-install"
  install -D -m 0755 "$ZZ_IMAGES/rauc/rauc-commit-if-healthy" "$ZZ_ROOT/usr/lib/zizhu/rauc-commit-if-healthy"
  # The update signing keyring: the file named by ZZ_RAUC_KEYRING, else an empty placeholder.
  install -D -m 0644 "${ZZ_RAUC_KEYRING:-/dev/null}" "$ZZ_ROOT/etc/rauc/keyring.pem"
fi
wants="$ZZ_ROOT/etc/systemd/system/multi-user.target.wants"
mkdir -p "$wants"
for unit in zizhu.service zizhu-provision.service ${ZZ_EXTRA_UNITS:-}; do
  path=/usr/lib/systemd/system/$unit
  [ -e "$ZZ_ROOT$path" ] || path=/lib/systemd/system/$unit
  [ -e "$ZZ_ROOT$path" ] || path=/etc/systemd/system/$unit
  [ -e "$ZZ_ROOT$path" ] || zz_die "unit $unit is not in the root file system"
  ln -sfn "$path" "$wants/$unit"
done
# No password logins on a kiosk; technicians use the maintenance screen or the serial console.
chroot "$ZZ_ROOT" passwd -l root >/dev/null
mkdir -p "$ZZ_ROOT/boot/zizhu" "$ZZ_ROOT/var/lib/zizhu"
chroot "$ZZ_ROOT" dpkg-query -W -f='${Version}' zizhu > "$ZZ_WORK/zizhu.version"
zz_log "installed zizhu $(cat "$ZZ_WORK/zizhu.version")"
