#!/usr/bin/env bash
# Whole-process UI benchmark (figures in benches/README.md): `zizhu screenshot --screen home`
# against a headless Chromium showing an equivalent static page (benches/home.html).
#  - zizhu: wall time of the whole process, the in-process time to the first home frame (from
#    its "screenshot timing" debug line), the estimated process start → first frame (wall
#    minus PNG encoding), peak RSS (GNU time) and peak PSS (sampled);
#  - chromium: wall time until the screenshot file exists (process exit), peak PSS summed over
#    all its processes (sampled every 10 ms from /proc/*/smaps_rollup);
#  - both ratios.
# Usage: benches/startup.sh [RUNS]   (needs a release build: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
BIN=${ZIZHU_BIN:-target/release/zizhu}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 2; }
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Runs CMD…, samples the summed PSS (KiB) of the process and its descendants; prints
# "wall_ms peak_pss_kib".
sample() {
  python3 - "$@" <<'PY'
import os, subprocess, sys, time
def tree(root):
    kids = {}
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open(f'/proc/{p}/stat') as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except OSError:
            continue
        kids.setdefault(ppid, []).append(int(p))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out
def pss(pid):
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            for line in f:
                if line.startswith('Pss:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
peak = 0
while proc.poll() is None:
    peak = max(peak, sum(pss(p) for p in tree(proc.pid)))
    time.sleep(0.01)
wall = (time.perf_counter() - t0) * 1000
print(f"{wall:.1f} {peak}")
PY
}

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }

echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  runs: $RUNS"

: > "$TMP/wall"; : > "$TMP/frame"; : > "$TMP/start"; : > "$TMP/rss"; : > "$TMP/pss"
for _ in $(seq "$RUNS"); do
  t0=$(date +%s%N)
  RUST_LOG=zizhu=debug "$BIN" screenshot --screen home --out "$TMP/home.png" 2> "$TMP/log"
  t1=$(date +%s%N)
  wall=$(( (t1 - t0) / 1000 ))
  frame=$(sed -n 's/.*first_frame_ms=\([0-9.]*\).*/\1/p' "$TMP/log")
  png=$(sed -n 's/.*png_ms=\([0-9.]*\).*/\1/p' "$TMP/log")
  echo "scale=2; $wall / 1000" | bc >> "$TMP/wall"
  echo "$frame" >> "$TMP/frame"
  echo "scale=2; $wall / 1000 - $png" | bc >> "$TMP/start"
  /usr/bin/time -f '%M' -o "$TMP/time" "$BIN" screenshot --screen home --out "$TMP/home.png" 2>/dev/null
  echo "scale=2; $(tail -1 "$TMP/time") / 1024" | bc >> "$TMP/rss"
  sample "$BIN" screenshot --screen home --out "$TMP/home.png" | cut -d' ' -f2 >> "$TMP/pss"
done
Z_WALL=$(median < "$TMP/wall")
Z_FRAME=$(median < "$TMP/frame")
Z_START=$(median < "$TMP/start")
Z_RSS=$(median < "$TMP/rss")
Z_PSS=$(echo "scale=1; $(median < "$TMP/pss") / 1024" | bc)
echo "zizhu screenshot --screen home (median of $RUNS):"
echo "  whole process ${Z_WALL} ms; in-process to first home frame ${Z_FRAME} ms;" \
     "process start to first frame (wall - PNG) ${Z_START} ms (goal <= 80)"
echo "  peak RSS ${Z_RSS} MiB (goal <= 32); peak PSS ${Z_PSS} MiB"

if [ -z "$CHROMIUM" ]; then
  echo "chromium not installed (apt-get install chromium); no comparison" >&2
  exit 0
fi
: > "$TMP/cwall"; : > "$TMP/cpss"; : > "$TMP/cprocs"
for _ in $(seq "$RUNS"); do
  rm -f "$TMP/chrome.png"
  out=$(sample "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --no-first-run --user-data-dir="$TMP/profile" --window-size=1080,1920 \
    --screenshot="$TMP/chrome.png" "file://$PWD/benches/home.html")
  [ -s "$TMP/chrome.png" ] || { echo "chromium wrote no screenshot" >&2; exit 1; }
  echo "$out" | cut -d' ' -f1 >> "$TMP/cwall"
  echo "$out" | cut -d' ' -f2 >> "$TMP/cpss"
done
C_WALL=$(median < "$TMP/cwall")
C_PSS=$(echo "scale=1; $(median < "$TMP/cpss") / 1024" | bc)
echo "chromium --headless --screenshot benches/home.html (median of $RUNS):"
echo "  wall ${C_WALL} ms; peak PSS over its processes ${C_PSS} MiB"
echo "ratios: wall chromium/zizhu $(echo "scale=1; $C_WALL / $Z_WALL" | bc)x;" \
     "memory chromium PSS/zizhu PSS $(echo "scale=1; $C_PSS / $Z_PSS" | bc)x;" \
     "chromium PSS/zizhu peak RSS $(echo "scale=1; $C_PSS / $Z_RSS" | bc)x"
