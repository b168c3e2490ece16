#!/usr/bin/env bash
# tests/bench/viewer.sh - what the image viewer's server-rendered images
# cost and weigh (tests/bench/viewerbench), on the real chest CTs of the
# test data: LIDC-IDRI-0002 (thin slices, 512 x 512) and the thick-slice
# Lung-PET-CT-Dx series, and on a noisy chest phantom.
#
#   tests/bench/viewer.sh
#
# These figures decided where pixels are rendered (README, "Image
# viewer"): JPEG slices rendered by the web worker against PNG, and
# against sending the 16-bit pixels to the browser over the grassroots
# hospitals' 10 Mbit/s link.  The browser test tests/browser/viewer.test.mjs
# measures the same over an emulated link, end to end.  The lines "3D"
# and "RESULT3D" time 三维重建 (/viewer/render): each mode at the
# 160-pixel side asked for while dragging and the 512-pixel full image
# (ZY_VIEWER_PICS=dir writes the full ones there as JPEG).  The lines
# "MASKS" and "MASKS3D" (tests/bench/masksbench) weigh the lung nodule
# reader's regions on LIDC-IDRI-0002 as ai_result_masks stores them, time
# their inflating in the web worker and 三维 with and without them
# (显示AI标注).
#
# Times are reported, never judged.  Without the test data (ZY_DATA, or
# ../shared/data beside the checkout) the real series are skipped, saying
# so.  Raw outputs go to tests/out/bench/viewer-*.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA=${ZY_DATA:-$ROOT/../shared/data}
OUT=$ROOT/tests/out/bench
mkdir -p "$OUT"
cd "$ROOT"
make -s tests/bench/viewerbench tests/bench/masksbench \
    src/tools/zhiying-phantom >/dev/null

run() {
	local name=$1 dir=$2
	echo "== $name"
	tests/bench/viewerbench "$dir" | tee "$OUT/viewer-$name.txt"
}

PH=$(mktemp -d)
trap 'rm -rf "$PH"' EXIT
src/tools/zhiying-phantom -t 1.25 -n 15 -o "$PH" >/dev/null
run phantom "$PH"
if [ -d "$DATA/ct/LIDC-IDRI-0002" ]; then
	run lidc "$DATA/ct/LIDC-IDRI-0002"
	echo "== masks"
	tests/bench/masksbench -d "$DATA/ct/LIDC-IDRI-0002" 2>/dev/null |
	    tee "$OUT/viewer-masks.txt"
else
	echo "== lidc: $DATA/ct/LIDC-IDRI-0002 not found, skipped"
fi
THICK=$(find "$DATA/ct/lung-pet-ct-dx" -mindepth 1 -type d 2>/dev/null | while read -r d; do
	n=$(find "$d" -maxdepth 1 -name '*.dcm' | wc -l)
	[ "$n" -ge 30 ] && { echo "$d"; break; }
done || true)
if [ -n "$THICK" ]; then
	run thick "$THICK"
else
	echo "== thick: no Lung-PET-CT-Dx series under $DATA/ct/lung-pet-ct-dx, skipped"
fi
