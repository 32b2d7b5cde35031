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
      print s * 512, z * 512
    }'
}

# Seconds since the epoch with decimals, for timings.
zz_now() { date +%s.%N; }

# Seconds elapsed since T0 (a zz_now value), one decimal.
zz_since() { awk -v a="$1" -v b="$(zz_now)" 'BEGIN { printf "%.1f", b - a }'; }
