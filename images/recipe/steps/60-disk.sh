#!/usr/bin/env bash
# Step 60, disk: the disk image without loop devices. sfdisk writes the partition table from
# images/layouts/$LAYOUT.sfdisk; mke2fs -d builds the ext4 root (and the data partition) straight
# into the image at the partition's offset; the FAT files are copied in with dd. Fixed UUIDs,
# hash seed and time (E2FSPROGS_FAKE_TIME) keep it reproducible.
set -euo pipefail
source "$ZZ_IMAGES/lib/common.sh"
img="$ZZ_WORK/disk.img"
mib=1048576

# Root size: the target's ROOT_MIB, or more when the root file system needs it.
need=$(du -sm --apparent-size "$ZZ_ROOT" | cut -f1)
need=$(( (need * 5 / 4 + 128 + 63) / 64 * 64 ))
root_mib=$ROOT_MIB
[ "$need" -gt "$root_mib" ] && root_mib=$need
boot_mib=${BOOT_MIB:-0}
case "$LAYOUT" in
  x86-test) total=$(( 1 + CONFIG_MIB + root_mib + DATA_MIB + 1 )) ;;
  pi4) total=$(( 1 + CONFIG_MIB + 2 * boot_mib + 2 * root_mib + DATA_MIB + 1 )) ;;
  *) zz_die "unknown layout $LAYOUT" ;;
esac
rm -f "$img"
truncate -s $(( total * mib )) "$img"
sed -e "s/@CONFIG_SECTORS@/$(( CONFIG_MIB * 2048 ))/" -e "s/@BOOT_SECTORS@/$(( boot_mib * 2048 ))/" \
    -e "s/@ROOT_SECTORS@/$(( root_mib * 2048 ))/" -e "s/@DATA_SECTORS@/$(( DATA_MIB * 2048 ))/" \
    "$ZZ_IMAGES/layouts/$LAYOUT.sfdisk" | sfdisk -q --no-reread --no-tell-kernel "$img"

# mkext4 PARTNO LABEL UUID SRC_DIR
mkext4() {
  local off size
  read -r off size < <(zz_part "$img" "$1")
  E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mke2fs -q -F -t ext4 -b 4096 -L "$2" -U "$3" \
    -E "offset=$off,root_owner=0:0,hash_seed=$3,lazy_itable_init=0" \
    -d "$4" "$img" "$(( size / 1024 ))k"
  # mke2fs 1.47.0 copies each source file's ctime (which nobody can set) and atime (which it
  # changes by reading the file): set both to SOURCE_DATE_EPOCH on every used inode (used
  # inodes from the inode bitmaps that dumpe2fs prints).
  dumpe2fs "$img?offset=$off" 2>/dev/null | awk -v t="$SOURCE_DATE_EPOCH" '
    function emit(a, b,   i) { for (i = a; i <= b; i++) printf "sif <%d> ctime @%d\nsif <%d> atime @%d\n", i, t, i, t }
    /^Inodes per group:/ { ipg = $4 }
    /^Group [0-9]+:/ { g = $2; sub(":", "", g) }
    /^  Free inodes:/ {
      used = g * ipg + 1; last = (g + 1) * ipg
      list = $0; sub(/^  Free inodes: */, "", list)
      n = split(list, parts, ", *")
      for (k = 1; k <= n; k++) {
        if (parts[k] == "") continue
        split(parts[k], ab, "-"); if (ab[2] == "") ab[2] = ab[1]
        emit(used, ab[1] - 1); used = ab[2] + 1
      }
      emit(used, last)
    }' > "$ZZ_WORK/ctime.debugfs"
  E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH debugfs -w -f "$ZZ_WORK/ctime.debugfs" "$img?offset=$off" >/dev/null 2>&1
}
# putfat PARTNO FILE
putfat() {
  local off size
  read -r off size < <(zz_part "$img" "$1")
  dd if="$2" of="$img" bs=1M seek=$(( off / mib )) conv=notrunc,sparse status=none
}
data="$ZZ_WORK/data.d"
rm -rf "$data" && mkdir -m 0750 "$data"
touch --date="@$SOURCE_DATE_EPOCH" "$data"
case "$LAYOUT" in
  x86-test)
    mkext4 2 zizhu-rootA 6a5c7d3e-0102-4c1b-9a3e-2b1d5e4f7a02 "$ZZ_ROOT"
    mkext4 3 zizhu-data 6a5c7d3e-0103-4c1b-9a3e-2b1d5e4f7a03 "$data"
    putfat 1 "$ZZ_WORK/config.vfat"
    ;;
  pi4)
    empty="$ZZ_WORK/empty.d"
    rm -rf "$empty" && mkdir "$empty" && touch --date="@$SOURCE_DATE_EPOCH" "$empty"
    mkext4 4 zizhu-rootA 6a5c7d3e-0104-4c1b-9a3e-2b1d5e4f7a04 "$ZZ_ROOT"
    mkext4 5 zizhu-rootB 6a5c7d3e-0105-4c1b-9a3e-2b1d5e4f7a05 "$empty"
    mkext4 6 zizhu-data 6a5c7d3e-0106-4c1b-9a3e-2b1d5e4f7a06 "$data"
    putfat 1 "$ZZ_WORK/config.vfat"
    putfat 2 "$ZZ_WORK/bootA.vfat"
    putfat 3 "$ZZ_WORK/bootB.vfat"
    ;;
esac
# The root file system alone, for RAUC bundles.
read -r off size < <(zz_part "$img" "$([ "$LAYOUT" = pi4 ] && echo 4 || echo 2)")
echo "$off $size" > "$ZZ_WORK/rootA.span"
zz_log "disk image $(( total )) MiB (root $root_mib MiB), $(du -h "$img" | cut -f1) allocated"
