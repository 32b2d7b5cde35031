#!/usr/bin/env bash
# Step 20, unpack: the cached root tarball into the work directory, owners and modes kept.
set -euo pipefail
source "$ZZ_IMAGES/lib/common.sh"
tarball=$(cat "$ZZ_WORK/rootfs.path")
rm -rf "$ZZ_ROOT"
mkdir -p "$ZZ_ROOT"
tar -C "$ZZ_ROOT" --numeric-owner -xpf "$tarball"
zz_log "unpacked $(du -sh "$ZZ_ROOT" | cut -f1)"
