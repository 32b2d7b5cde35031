#!/usr/bin/env bash
# Step 70, artifacts: into the output directory go the image, its block map (bmaptool), the xz
# copy, for x86-test the kernel and initramfs QEMU boots, SHA256SUMS over all of them, and a
# Raspberry Pi Imager manifest (so GUI users get verification too).
set -euo pipefail
source "$ZZ_IMAGES/lib/common.sh"
name="zizhu-$ZZ_TARGET"
out=$ZZ_OUT
mkdir -p "$out"
rm -f "$out/$name".* "$out/SHA256SUMS"
mv "$ZZ_WORK/disk.img" "$out/$name.img"
files=("$name.img")
if [ "$ZZ_TARGET" = x86-test ]; then
  vmlinuz=$(ls "$ZZ_ROOT"/boot/vmlinuz-* | sort -V | tail -n1)
  initrd=$(ls "$ZZ_ROOT"/boot/initrd.img-* | sort -V | tail -n1)
  cp "$vmlinuz" "$out/$name.vmlinuz"
  cp "$initrd" "$out/$name.initrd"
  echo "$KERNEL_CMDLINE" > "$out/$name.cmdline"
  files+=("$name.vmlinuz" "$name.initrd" "$name.cmdline")
fi
bmaptool -q create -o "$out/$name.img.bmap" "$out/$name.img"
files+=("$name.img.bmap")
if [ "${ZZ_NO_XZ:-0}" != 1 ]; then
  t0=$(zz_now)
  # Fixed thread count and block size: the same image gives the same .xz bytes.
  xz -T2 --block-size=64MiB -"${ZZ_XZ_LEVEL:-3}" -c "$out/$name.img" > "$out/$name.img.xz"
  zz_log "xz in $(zz_since "$t0") s: $(du -h "$out/$name.img.xz" | cut -f1)"
  files+=("$name.img.xz")
fi
(cd "$out" && sha256sum "${files[@]}" > SHA256SUMS)
if [ -f "$out/$name.img.xz" ]; then
  img_size=$(stat -c %s "$out/$name.img")
  img_sha=$(sha256sum "$out/$name.img" | cut -d' ' -f1)
  xz_size=$(stat -c %s "$out/$name.img.xz")
  xz_sha=$(sha256sum "$out/$name.img.xz" | cut -d' ' -f1)
  devices='"pi4-64bit"'
  [ "$ZZ_TARGET" = pi4 ] || devices=''
  cat > "$out/$name.rpi-imager.json" <<JSON
{
  "os_list": [
    {
      "name": "Zizhu kiosk ($ZZ_TARGET)",
      "description": "Government-service kiosk OS: Debian $SUITE, zizhu $(cat "$ZZ_WORK/zizhu.version"). Provision it with zizhu image provision.",
      "url": "$name.img.xz",
      "extract_size": $img_size,
      "extract_sha256": "$img_sha",
      "image_download_size": $xz_size,
      "image_download_sha256": "$xz_sha",
      "release_date": "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)",
      "init_format": "none",
      "devices": [$devices]
    }
  ]
}
JSON
fi
zz_log "artifacts in $out: $(cd "$out" && ls | tr '\n' ' ')"
