# Shared helpers of the image scripts (images/build, images/verify, images/qemu-smoke).
# Sourced, not run. Needs bash with `set -euo pipefail` in the caller.

# Fixed build time of every image unless the caller sets one (reproducible output).
: "${SOURCE_DATE_EPOCH:=1767225600}" # 2026-01-01T00:00:00Z
export SOURCE_DATE_EPOCH

# Where slow, reusable inputs (the mmdebstrap root tarball) are kept, outside the checkout.
: "${ZIZHU_IMAGE_CACHE:=/var/cache/zizhu-images}"

zz_log() { printf '%s [%s] %s\n' "$(date -u +%H:%M:%S)" "${ZZ_STEP:-images}" "$*" >&2; }
zz_die() { zz_log "ERROR: $*"; exit 1; }

# Prints the build host's Debian package sources as one-line apt sources for SUITE and
# COMPONENTS (taken from apt's own configuration: the mirror host is never written here).
zz_host_sources() {
  local suite=$1 components=$2 uri release
  apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' | sort -u |
    while read -r uri release; do
      case "$release" in
        "$suite") echo "deb $uri $suite $components" ;;
        "$suite-updates") echo "deb $uri $suite-updates $components" ;;
        "$suite-security") echo "deb $uri $suite-security $components" ;;
      esac
    done
}

# Lists the packages of a .list file (comments and blank lines removed).
zz_list() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$@" | tr -s '[:space:]' '\n' | sed '/^$/d'; }

# The package names a .deb depends on (first alternative, no versions).
zz_deb_depends() {
  dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' -e '/^$/d'
}

# Byte offset and size of partition N of IMAGE: prints "START_BYTES SIZE_BYTES".
zz_part() {
  sfdisk -d "$1" | tr -d ' ' | awk -F'[:,]' -v dev="$1$2" '
    $1 == dev {
      for (i = 2; i <= NF; i++) {
        if ($i ~ /^start=/) { s = substr($i, 7) }
        if ($i ~ /^size=/)  { z = substr($i, 6) }
      }
      # %.0f: mawk prints numbers of 2^31 and more as 2.14748e+09 and clamps %d to 2^31-1,
      # and a pi4 image has partitions beyond 2 GiB.
      printf "%.0f %.0f\n", s * 512, z * 512
    }'
}

# Seconds since the epoch with decimals, for timings.
zz_now() { date +%s.%N; }

# Seconds elapsed since T0 (a zz_now value), one decimal.
zz_since() { awk -v a="$1" -v b="$(zz_now)" 'BEGIN { printf "%.1f", b - a }'; }

# QEMU's name for a Debian architecture (qemu-user's binfmt entry is qemu-NAME).
zz_qemu_arch() {
  case "$1" in
    arm64) echo aarch64 ;;
    amd64) echo x86_64 ;;
    armhf) echo arm ;;
    *) echo "$1" ;;
  esac
}

# zz_screen_match DUMP REF ROTATION OUT REGION...: compares a QEMU screendump with the kiosk's
# own screenshot (ImageMagick). The dump is turned back by ROTATION degrees (the panel's
# [display] rotation) into OUT.png, then each REGION (WxH+X+Y, in the upright 1080x1920 picture;
# regions that show no clock or site name) must differ in at most ZZ_SCREEN_MAX_PERCENT (default
# 2) percent of its pixels, a pixel differing when a channel is off by more than 10 %. A black,
# garbled or other screen fails. Writes OUT.diff.png (differences in red) for a person; prints
# the worst region's percentage; exit 1 on a mismatch.
zz_screen_match() {
  local dump=$1 ref=$2 rot=$3 out=$4 region ae w h pct worst=0 rc=0
  shift 4
  convert "$dump" -rotate "-$rot" +repage "$out.png" 2>/dev/null || { echo "unreadable"; return 1; }
  if [ "$(identify -format '%wx%h' "$out.png")" != "$(identify -format '%wx%h' "$ref")" ]; then
    echo "size $(identify -format '%wx%h' "$out.png") (expected $(identify -format '%wx%h' "$ref"))"
    return 1
  fi
  compare -fuzz 10% "$out.png" "$ref" "$out.diff.png" 2>/dev/null || true
  for region in "$@"; do
    ae=$(compare -metric AE -fuzz 10% "$out.png[$region]" "$ref[$region]" null: 2>&1 >/dev/null || true)
    w=${region%%x*}; h=${region#*x}; h=${h%%+*}
    pct=$(awk -v a="$ae" -v n=$((w * h)) 'BEGIN { if (a !~ /^[0-9.e+]+$/) { print "error"; exit } printf "%.2f", 100 * a / n }')
    [ "$pct" = error ] && { echo "compare failed: $ae"; return 1; }
    worst=$(awk -v a="$pct" -v b="$worst" 'BEGIN { print (a > b) ? a : b }')
    awk -v p="$pct" -v m="${ZZ_SCREEN_MAX_PERCENT:-2}" 'BEGIN { exit !(p <= m) }' || rc=1
  done
  echo "$worst%"
  return $rc
}
