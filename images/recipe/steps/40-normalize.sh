#!/usr/bin/env bash
# Step 40, normalize: remove what differs between two builds of the same inputs (logs, caches,
# the machine id: systemd makes one on first boot) and set every time stamp to
# SOURCE_DATE_EPOCH, so the same inputs give the same image bytes.
set -euo pipefail
source "$ZZ_IMAGES/lib/common.sh"
r=$ZZ_ROOT
: > "$r/etc/machine-id"
rm -f "$r/var/lib/dbus/machine-id" "$r/var/cache/ldconfig/aux-cache" \
  "$r"/var/lib/dpkg/*-old "$r"/var/cache/debconf/*-old "$r/etc/ssh/"ssh_host_* 2>/dev/null || true
find "$r/var/log" -type f -delete
rm -rf "$r"/tmp/* "$r"/var/tmp/* "$r"/var/cache/apt/*.bin "$r"/var/lib/apt/lists/* 2>/dev/null || true
find "$r" -xdev -newermt "@$SOURCE_DATE_EPOCH" -print0 |
  xargs -0r touch --no-dereference --date="@$SOURCE_DATE_EPOCH"
zz_log "normalized to $(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
