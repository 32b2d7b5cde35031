#!/usr/bin/env bash
# benches/images.sh: whole-process figures of the image tooling (results in benches/README.md,
# section "Images"). Needs a built kiosk .deb and root.
#
#   benches/images.sh DEB [RUNS]
#
# 1. Image assembly from the cached root tarball: images/build x86-test --no-xz, RUNS times
#    (default 3); the median of steps 20-60 (unpack to disk image) and of the whole build. The
#    image's SHA-256 must be the same every time (reproducibility).
# 2. Flashing to a regular file standing in for an SD card, with and without the block map:
#    throughput and the bytes the block map saves (zizhu flash --json).
# 3. QEMU boot to kiosk service active: read from the last images/qemu-smoke run, if any.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
deb=$1 runs=${2:-3}
zizhu=${ZIZHU_BIN:-target/deb/zizhu}   # with the technician tools: images/ci leaves that build there
out=target/images/bench
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
: > /tmp/zizhu-bench-assembly
: > /tmp/zizhu-bench-total
sums=()
for i in $(seq 1 "$runs"); do
  s=$(date +%s.%N)
  images/build x86-test --deb "$deb" --out "$out" --no-xz 2>/dev/null
  e=$(date +%s.%N)
  awk -v a="$s" -v b="$e" 'BEGIN { printf "%.1f\n", b - a }' >> /tmp/zizhu-bench-total
  awk '$1 ~ /^(20|30|40|50|60)-/ { t += $2 } END { printf "%.1f\n", t }' "$out/work/timings" >> /tmp/zizhu-bench-assembly
  sums+=("$(sha256sum "$out/zizhu-x86-test.img" | cut -c1-16)")
done
echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d)"
echo "assembly (steps 20-60) from cached tarball, median of $runs: $(median < /tmp/zizhu-bench-assembly) s"
echo "whole build without xz, median of $runs: $(median < /tmp/zizhu-bench-total) s"
if [ "$(printf '%s\n' "${sums[@]}" | sort -u | wc -l)" = 1 ]; then
  echo "reproducible: yes (image sha256 ${sums[0]}… every run)"
else
  echo "reproducible: NO (${sums[*]})"
fi
img="$out/zizhu-x86-test.img"
card=$(mktemp /var/tmp/zizhu-card.XXXXXX)
trap 'rm -f "$card"' EXIT
truncate -s "$(stat -c %s "$img")" "$card"
for mode in bmap no-bmap; do
  args=(--bmap "$img.bmap")
  [ "$mode" = no-bmap ] && args=(--no-bmap)
  "$zizhu" flash "$img" "$card" "${args[@]}" --yes --json > "/tmp/zizhu-bench-$mode.json"
  awk -v m="$mode" '
    /"image_size"/ { gsub(/[^0-9]/, ""); size = $0 }
    /"bytes_written"/ { gsub(/[^0-9]/, ""); w = $0 }
    /"write_seconds"/ { gsub(/[^0-9.]/, ""); ws = $0 }
    /"verify_seconds"/ { gsub(/[^0-9.]/, ""); vs = $0 }
    END { printf "flash %s: wrote %.0f MiB of %.0f MiB in %.1f s (%.0f MiB/s), read-back %.1f s, %.0f MiB skipped\n",
          m, w / 1048576, size / 1048576, ws, w / 1048576 / ws, vs, (size - w) / 1048576 }' "/tmp/zizhu-bench-$mode.json"
done
if [ -f target/images/x86-test/smoke/figures ]; then
  echo "qemu (TCG) boot to zizhu.service active: $(cat target/images/x86-test/smoke/figures)"
fi
