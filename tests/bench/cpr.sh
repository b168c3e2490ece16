#!/usr/bin/env bash
# tests/bench/cpr.sh - what 肋骨拉直 / 肋骨展开 cost (tests/bench/cprbench)
# on LIDC-IDRI-0002 once the series is in the web worker's cache:
# milliseconds per straightened rib and per unfolded cage, windowed and
# encoded as the worker sends them.  The centre lines come from the rib
# fracture reader run on the series first (some seconds to minutes).
#
#   tests/bench/cpr.sh
#
# Times are reported, never judged.  Without the test data (ZY_DATA, or
# ../shared/data beside the checkout) it says so.  Raw output goes to
# tests/out/bench/cpr.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$ROOT/tests/out/bench
mkdir -p "$OUT"
cd "$ROOT"
make -s tests/bench/cprbench >/dev/null
tests/bench/cprbench "$@" | tee "$OUT/cpr.txt"
