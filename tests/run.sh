#!/usr/bin/env bash
# tests/run.sh - the whole test suite: unit (cmocka), fuzz (libFuzzer, time
# bounded), integration (real PostgreSQL, nginx and workers over HTTP) and
# browser (Debian's chromium, headless).  Ends with one summary line.
#
# Environment: FUZZ_SECONDS (per fuzzer, default 20), ZY_KEEP=1 keeps the
# test stack's folder.  Output and screenshots go to tests/out/.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/tests/out
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
mkdir -p "$OUT"
cd "$ROOT"
. "$ROOT/tests/lib.sh"

PASS=0 FAIL=0 SKIP=0
FAILED_SUITES=""
count() {	# suite passed failed skipped
	PASS=$((PASS + $2)); FAIL=$((FAIL + $3)); SKIP=$((SKIP + $4))
	printf '== %-12s %d passed, %d failed, %d skipped\n' "$1" "$2" "$3" "$4"
	[ "$3" -eq 0 ] || FAILED_SUITES="$FAILED_SUITES $1"
}

# Counts from node's TAP reporter output.
tap_counts() {	# file -> "pass fail skip"
	local p f s
	p=$(grep -E '^# pass ' "$1" | tail -1 | awk '{print $3}')
	f=$(grep -E '^# fail ' "$1" | tail -1 | awk '{print $3}')
	s=$(grep -E '^# skipped ' "$1" | tail -1 | awk '{print $3}')
	echo "${p:-0} ${f:-1} ${s:-0}"
}

echo "== unit tests (cmocka)"
# Pictures the unit tests draw (the calcium reader on a real CT) go to
# tests/out/unit/.
ZY_OUT=$OUT/unit make -s check >"$OUT/unit.txt" 2>&1
up=0 uf=0 us=0
for log in tests/unit/test_*.log; do
	[ -f "$log" ] || continue
	n=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$log" | awk '{print $4}' | tail -1)
	m=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{print $4}' | tail -1)
	k=$(grep -E '^\[  SKIPPED \] [0-9]+ test' "$log" | awk '{print $4}' | tail -1)
	up=$((up + ${n:-0})); uf=$((uf + ${m:-0})); us=$((us + ${k:-0}))
	# A program that crashed reports no count of its own.
	if ! grep -q ':test-result: PASS' "${log%.log}.trs" 2>/dev/null && [ -z "$m" ]; then
		uf=$((uf + 1)); echo "   $log: crashed"; tail -20 "$log"
	fi
done
[ "$up" -gt 0 ] || uf=$((uf + 1))
[ "$uf" -eq 0 ] || cat tests/unit/test_*.log | grep -E 'FAILED|ERROR|Failure' | head -40
count unit "$up" "$uf" "$us"

echo "== DICOM reader under AddressSanitizer and UBSan (the whole corpus)"
if make -s check-dicom-asan >"$OUT/asan.txt" 2>&1; then
	n=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$OUT/asan.txt" | awk '{print $4}' | tail -1)
	k=$(grep -E '^\[  SKIPPED \] [0-9]+ test' "$OUT/asan.txt" | awk '{print $4}' | tail -1)
	count sanitizer "${n:-0}" 0 "${k:-0}"
else
	tail -40 "$OUT/asan.txt"
	count sanitizer 0 1 0
fi

echo "== fuzz drivers (libFuzzer, ${FUZZ_SECONDS}s each)"
fp=0 ff=0
if make -s fuzz >"$OUT/fuzz-build.txt" 2>&1; then
	# The DICOM reader starts from the small files of the robustness
	# corpus, when the shared data is there (copied, never committed).
	DATA=${ZY_DATA:-$ROOT/../shared/data}
	mkdir -p "$OUT/fuzz/fuzz_dicom-seed"
	[ -d "$DATA/edge" ] && find "$DATA/edge" -type f -size -64k \
	    ! -name '*.txt' -exec cp -n {} "$OUT/fuzz/fuzz_dicom-seed/" \; 2>/dev/null
	for f in fuzz_urlencoded fuzz_multipart fuzz_cookie fuzz_tmpl fuzz_dicom; do
		mkdir -p "$OUT/fuzz/$f"
		seed=""
		[ -d "$OUT/fuzz/$f-seed" ] && seed="$OUT/fuzz/$f-seed"
		if tests/fuzz/bin/$f -max_total_time="$FUZZ_SECONDS" -timeout=10 \
		    -rss_limit_mb=2048 -artifact_prefix="$OUT/fuzz/$f-" \
		    "$OUT/fuzz/$f" $seed >"$OUT/fuzz/$f.txt" 2>&1; then
			fp=$((fp + 1))
			printf '   %-16s ok (%s)\n' "$f" "$(grep -o 'Done [0-9]* runs' "$OUT/fuzz/$f.txt" | tail -1)"
		else
			ff=$((ff + 1)); echo "   $f FAILED:"; tail -30 "$OUT/fuzz/$f.txt"
		fi
	done
else
	ff=1; cat "$OUT/fuzz-build.txt"
fi
count fuzz "$fp" "$ff" 0

echo "== integration and browser tests (PostgreSQL + nginx + zhiying-web)"
if [ ! -d tests/browser/node_modules/playwright-core ]; then
	(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) >"$OUT/npm.txt" 2>&1 ||
	    { echo "npm ci failed:"; cat "$OUT/npm.txt"; }
fi
# Three workers, which the tests count and kill.  Sessions lapse after the
# production default of 30 idle minutes: a loaded machine must not end a
# test's session between two of its steps; the tests of the idle limit
# make their session old in the database instead of waiting for it.
# Each worker keeps the fewest prepared statements it may (16, against
# 256 in production), so that every test runs on workers that give
# statements up and prepare them again (statements.test.mjs).
export ZHIYING_SESSION_IDLE=1800 ZHIYING_WORKERS=3 ZHIYING_DB_STATEMENTS=16
if stack_start >"$OUT/stack.txt" 2>&1; then
	trap stack_stop EXIT
	export ZY_OUT=$OUT
	# One file at a time: the files share one stack and its database,
	# and some count what they made.
	for suite in integration browser; do
		: >"$OUT/$suite.tap"
		sp=0 sf=0 ss=0
		for t in tests/$suite/*.test.mjs; do
			node --test --test-reporter=tap "$t" >"$OUT/$suite-$(basename "$t" .test.mjs).tap" 2>&1
			read -r p f s < <(tap_counts "$OUT/$suite-$(basename "$t" .test.mjs).tap")
			sp=$((sp + p)); sf=$((sf + f)); ss=$((ss + s))
			cat "$OUT/$suite-$(basename "$t" .test.mjs).tap" >>"$OUT/$suite.tap"
			[ "$f" -eq 0 ] || { echo "   $t:"; grep -B2 -A25 '^not ok\|^    not ok' \
			    "$OUT/$suite-$(basename "$t" .test.mjs).tap" | head -80; }
		done
		count "$suite" "$sp" "$sf" "$ss"
	done
	# The administration console: replay mode and tmux, same stack.
	: >"$OUT/console.tap"
	cp=0 cf=0 cs=0
	for t in tests/console/*.test.mjs; do
		node --test --test-reporter=tap "$t" >"$OUT/console-$(basename "$t" .test.mjs).tap" 2>&1
		read -r p f s < <(tap_counts "$OUT/console-$(basename "$t" .test.mjs).tap")
		cp=$((cp + p)); cf=$((cf + f)); cs=$((cs + s))
		cat "$OUT/console-$(basename "$t" .test.mjs).tap" >>"$OUT/console.tap"
		[ "$f" -eq 0 ] || { echo "   $t:"; grep -B2 -A25 '^not ok\|^    not ok' \
		    "$OUT/console-$(basename "$t" .test.mjs).tap" | head -80; }
	done
	count console "$cp" "$cf" "$cs"
	stack_stop
	trap - EXIT
else
	echo "the test stack did not start:"; cat "$OUT/stack.txt"
	count integration 0 1 0
fi
unset ZHIYING_SESSION_IDLE ZHIYING_WORKERS ZHIYING_DB_STATEMENTS

echo
[ -z "$FAILED_SUITES" ] || echo "failed suites:$FAILED_SUITES"
echo "total: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ]
