#!/usr/bin/env bash
# Step 50, bootfs: the FAT file systems as files (mkfs.vfat --invariant with fixed volume ids,
# files copied in with mtools; nothing mounted): the config partition with the build information
# (and, on pi4, autoboot.txt), and on pi4 the boot slots A (firmware, kernel, initramfs,
# config.txt, cmdline.txt) and B (empty until an update fills it).
set -euo pipefail
source "$ZZ_IMAGES/lib/common.sh"
cfg="$ZZ_WORK/config.d"
rm -rf "$cfg" && mkdir -p "$cfg"
deb_sha=$(sha256sum "$ZZ_DEB" | cut -d' ' -f1)
cat > "$cfg/zizhu-build.toml" <<TOML
# What this image is (written by images/build; shown by zizhu image inspect).
target = "$ZZ_TARGET"
arch = "$ARCH"
suite = "$SUITE"
zizhu_version = "$(cat "$ZZ_WORK/zizhu.version")"
zizhu_deb_sha256 = "$deb_sha"
source_date_epoch = $SOURCE_DATE_EPOCH
built = "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
rootfs = "$(basename "$(cat "$ZZ_WORK/rootfs.path")")"
TOML
cp "$ZZ_IMAGES/bootfs/README.txt" "$cfg/README.txt"
cp "$ZZ_IMAGES/bootfs/zizhu-provision.example.toml" "$cfg/"
if [ "$ZZ_TARGET" = pi4 ]; then cp "$ZZ_IMAGES/bootfs/pi4/autoboot.txt" "$cfg/"; fi

# mkfs_fat NAME LABEL VOLID MIB FATBITS SRC_DIR: writes $ZZ_WORK/NAME.vfat
mkfs_fat() {
  local out="$ZZ_WORK/$1.vfat"
  rm -f "$out"
  find "$6" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
  mkfs.vfat -C --invariant -i "$3" -n "$2" -F "$5" ${7:-} "$out" $(( $4 * 1024 )) >/dev/null
  if [ -n "$(ls -A "$6")" ]; then
    MTOOLS_SKIP_CHECK=1 mcopy -s -p -m -Q -i "$out" "$6"/* ::
  fi
}
mkfs_fat config ZIZHU 5A5A0001 "$CONFIG_MIB" 16 "$cfg" "-a -R 1"

if [ "$ZZ_TARGET" = pi4 ]; then
  boota="$ZZ_WORK/bootA.d"
  rm -rf "$boota" "$ZZ_WORK/bootB.d" && mkdir -p "$boota" "$ZZ_WORK/bootB.d"
  # The initramfs (built with images/overlay/pi4/etc/initramfs-tools: a short module list) must
  # hold what finds the root on a Pi 4 and on QEMU's virt machine, unless the kernel has it built in.
  kver=$(ls "$ZZ_ROOT"/boot/vmlinuz-* | sed 's:.*/vmlinuz-::' | sort -V | tail -n1)
  initrd="$ZZ_ROOT/boot/initrd.img-$kver"
  [ -s "$initrd" ] || zz_die "no initramfs for kernel $kver in the root file system"
  if gzip -t "$initrd" 2>/dev/null; then unpack=(gzip -dc); else unpack=(zstd -dc); fi
  inside=$("${unpack[@]}" "$initrd" | cpio -it --quiet 2>/dev/null) || zz_die "cannot list the initramfs $initrd"
  for mod in sdhci-iproc mmc_block ext4 virtio_blk virtio_pci; do
    grep -q "/${mod//[-_]/[-_]}\.ko" <<< "$inside" ||
      grep -q "/${mod//[-_]/[-_]}\.ko" "$ZZ_ROOT/lib/modules/$kver/modules.builtin" ||
      zz_die "the initramfs of $kver lacks module $mod (images/overlay/pi4/etc/initramfs-tools/hooks/zizhu-modules)"
  done
  zz_log "initramfs $(basename "$initrd"): $(stat -c %s "$initrd") bytes, $(grep -c '\.ko' <<< "$inside") modules"
  cp -a "$ZZ_ROOT/boot/firmware/." "$boota/"
  [ -f "$boota/start4.elf" ] || zz_die "raspi-firmware left no start4.elf in /boot/firmware"
  cat "$ZZ_IMAGES/bootfs/pi4/config-extra.txt" >> "$boota/config.txt"
  echo "$KERNEL_CMDLINE" > "$boota/cmdline.txt"
  mkfs_fat bootA BOOTA 5A5A0002 "$BOOT_MIB" 32 "$boota" "-s 1"
  mkfs_fat bootB BOOTB 5A5A0003 "$BOOT_MIB" 32 "$ZZ_WORK/bootB.d" "-s 1"
fi
zz_log "FAT file systems ready"
