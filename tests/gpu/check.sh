#!/usr/bin/env bash
# tests/gpu/check.sh - the device check: the CUDA compute backend against
# the CPU one, and the coronary calcium reader on both, on a machine with
# an NVIDIA GPU.
#
#   tests/gpu/check.sh            the check
#   tests/gpu/check.sh --bundle   build here and pack gpu-build/ for a GPU
#                                 machine that cannot build (see 2.)
#
# 1. Without nvcc (on the PATH or in /usr/local/cuda/bin): "no GPU:
#    skipped (no nvcc)", exit 0.
# 2. Build with CUDA, in the tree: autoreconf when there is no configure,
#    ./configure --with-cuda when the tree is not configured with CUDA
#    (with the arguments it was configured with), then make
#    tests/unit/test_kernels and tests/bench/cacbench, and check that both
#    hold the CUDA backend.  Where the tree cannot be built (no autotools,
#    or a library missing: a GPU image with nvcc but without DCMTK, libpq
#    or cmocka), a gpu-build/ made with --bundle from the same sources on a
#    machine that can build, and carried along, is used instead: the two
#    programs and the shared libraries they need beyond glibc.
# 3. Without a device (nvidia-smi absent or failing, or listing no GPU):
#    "no GPU: skipped (...)", exit 0.  A machine with nvcc and no GPU has
#    still checked that cuda.cu compiles and links.
# 4. tests/unit/test_kernels: every kernel on random inputs, CUDA against
#    CPU (test_cuda_agrees must run, not skip).
# 5. tests/bench/cacbench -c -f on the standard phantom at 1.25 and 0.625
#    mm, and on LIDC-IDRI-0002 when found in gpu-data/ (ignored by git; a
#    caller carries it), $ZY_DATA/ct or ../shared/data/ct: load, compute
#    and floor times of both backends, and whether every figure and every
#    lesion agree.
#
# Exit status: 0 when skipped or every check passed, 1 otherwise.
# Environment: GPU_CHECK_RUNS (cacbench repeats, default 3), ZY_DATA.
# Raw outputs go to tests/out/gpu/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$ROOT/tests/out/gpu
BUNDLE=$ROOT/gpu-build
RUNS=${GPU_CHECK_RUNS:-3}
PROGS="tests/unit/test_kernels tests/bench/cacbench"

say() { printf '[gpu] %s\n' "$*"; }
die() { printf '[gpu] error: %s\n' "$*" >&2; exit 1; }
skip() { printf '[gpu] no GPU: skipped (%s)\n' "$*"; exit 0; }

MODE=check
case "${1:-}" in
"") ;;
--bundle) MODE=bundle ;;
*) sed -n '2,35s/^# \{0,1\}//p' "$0"; exit 2 ;;
esac
case $RUNS in
[1-9]) ;;
*) die "GPU_CHECK_RUNS must be 1..9" ;;
esac

cd "$ROOT"
mkdir -p "$OUT"
rm -f "$OUT"/*

# ---- 1. nvcc -------------------------------------------------------------
NVCC=$(command -v nvcc || true)
[ -n "$NVCC" ] || { [ -x /usr/local/cuda/bin/nvcc ] && NVCC=/usr/local/cuda/bin/nvcc; } || true
if [ -z "$NVCC" ]; then
	[ "$MODE" = check ] || die "--bundle needs nvcc"
	skip "no nvcc on the PATH or in /usr/local/cuda/bin"
fi
say "nvcc: $NVCC ($("$NVCC" --version | sed -n 's/.*release \([^,]*\).*/\1/p'))"

# The sources that go into the two programs, for telling whether a
# bundle was made from this tree.
src_hash() {
	find configure.ac Makefile.am src/lib src/infer tests/unit/test_kernels.c \
	    tests/bench/cacbench.c -type f \( -name '*.c' -o -name '*.cc' -o -name '*.cu' \
	    -o -name '*.h' -o -name '*.ac' -o -name '*.am' \) -print0 |
	    sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
}

# ---- 2. build ------------------------------------------------------------
# Build in the tree; 0, or 1 with the reason in $OUT/build.txt.
build() {
	local args
	: >"$OUT/build.txt"
	# Once configured, make itself reruns autoconf and automake when
	# configure.ac or Makefile.am change.
	if [ ! -x configure ]; then
		command -v autoreconf >/dev/null ||
		    { echo "no configure and no autoreconf (autoconf, automake)" >>"$OUT/build.txt"; return 1; }
		say "autoreconf"
		autoreconf -fi >>"$OUT/build.txt" 2>&1 ||
		    { echo "autoreconf failed" >>"$OUT/build.txt"; return 1; }
	fi
	if [ ! -f Makefile ] || ! grep -q '^#define HAVE_CUDA 1' config.h 2>/dev/null; then
		args=
		[ -x config.status ] && args=$(./config.status --config)
		say "configure $args --with-cuda"
		eval "./configure -q $args --with-cuda" >>"$OUT/build.txt" 2>&1 ||
		    { echo "configure failed" >>"$OUT/build.txt"; return 1; }
	fi
	say "make $PROGS"
	make -s -j"$(nproc)" $PROGS >>"$OUT/build.txt" 2>&1 ||
	    { echo "make failed" >>"$OUT/build.txt"; return 1; }
	grep -q '^#define HAVE_CUDA 1' config.h || { echo "config.h: HAVE_CUDA not defined" >>"$OUT/build.txt"; return 1; }
	[ src/infer/kernels/cuda.o -nt src/infer/kernels/cuda.cu ] ||
	    { echo "src/infer/kernels/cuda.o is not newer than cuda.cu" >>"$OUT/build.txt"; return 1; }
	return 0
}

# Whether a program holds the CUDA backend (not asked without nm).
has_cuda() {
	command -v nm >/dev/null || return 0
	nm "$1" 2>/dev/null | grep ' T compute_cuda_open$' >/dev/null
}

TMP=$(mktemp -d /tmp/zhiying-gpu.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
BIN=$ROOT
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}

if build; then
	for p in $PROGS; do
		has_cuda "$p" || die "$p was built without the CUDA backend"
	done
	say "built with CUDA: src/infer/kernels/cuda.o linked into test_kernels and cacbench"
	if [ "$MODE" = bundle ]; then
		rm -rf "$BUNDLE"
		mkdir -p "$BUNDLE/bin" "$TMP/lib"
		cp tests/unit/test_kernels tests/bench/cacbench "$BUNDLE/bin/"
		# Every shared library beyond glibc (and the loader).
		for lib in $(ldd $PROGS | awk '$3 ~ /^\// { print $3 }' | sort -u); do
			case ${lib##*/} in
			libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | \
			    libresolv.so.* | ld-linux*) ;;
			*) cp -L "$lib" "$TMP/lib/" ;;
			esac
		done
		tar -C "$TMP" -cJf "$BUNDLE/lib.tar.xz" lib
		src_hash >"$BUNDLE/SOURCES"
		{ date '+%Y-%m-%d %H:%M'; uname -srm; "$NVCC" --version | tail -1
		  sed -n 's/^PRETTY_NAME=//p' /etc/os-release; } >"$BUNDLE/BUILT"
		say "bundle: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1)); carry gpu-build (and gpu-data)"
		exit 0
	fi
	BIN=$ROOT
else
	[ "$MODE" = check ] || { cat "$OUT/build.txt" >&2; die "--bundle: the tree does not build here"; }
	say "the tree does not build here: $(tail -1 "$OUT/build.txt")"
	[ -x "$BUNDLE/bin/cacbench" ] || { tail -20 "$OUT/build.txt" >&2
		die "cannot build (see $OUT/build.txt) and no gpu-build/: make one with 'tests/gpu/check.sh --bundle' where the tree builds, and carry it"; }
	[ "$(src_hash)" = "$(cat "$BUNDLE/SOURCES" 2>/dev/null)" ] ||
	    die "gpu-build/ was made from other sources than these: make it again with --bundle"
	say "using gpu-build/, built $(head -1 "$BUNDLE/BUILT") on $(sed -n 4p "$BUNDLE/BUILT")"
	tar -C "$TMP" -xJf "$BUNDLE/lib.tar.xz"
	export LD_LIBRARY_PATH="$TMP/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	mkdir -p "$TMP/tests/unit" "$TMP/tests/bench"
	cp "$BUNDLE/bin/test_kernels" "$TMP/tests/unit/"
	cp "$BUNDLE/bin/cacbench" "$TMP/tests/bench/"
	BIN=$TMP
	for p in $PROGS; do
		has_cuda "$BIN/$p" || die "gpu-build/bin/${p##*/} holds no CUDA backend"
	done
fi

# ---- 3. the device -------------------------------------------------------
command -v nvidia-smi >/dev/null || skip "no nvidia-smi; the CUDA backend was built"
nvidia-smi -L >"$OUT/nvidia-smi.txt" 2>&1 || skip "nvidia-smi failed: $(head -1 "$OUT/nvidia-smi.txt"); the CUDA backend was built"
grep -q '^GPU ' "$OUT/nvidia-smi.txt" || skip "nvidia-smi lists no GPU; the CUDA backend was built"
sed 's/^/[gpu] /' "$OUT/nvidia-smi.txt"
nvidia-smi --query-gpu=driver_version,memory.total --format=csv,noheader 2>/dev/null |
    sed 's/^/[gpu] driver, memory: /' || true

FAILED=

# ---- 4. the kernels ------------------------------------------------------
say "tests/unit/test_kernels"
if "$BIN/tests/unit/test_kernels" >"$OUT/test_kernels.txt" 2>&1; then
	if grep -q 'SKIPPED.*test_cuda_agrees' "$OUT/test_kernels.txt"; then
		say "test_kernels: the CUDA comparison was skipped on a machine with a GPU"
		FAILED="$FAILED test_kernels"
	else
		say "test_kernels: $(grep -c '\[       OK \]' "$OUT/test_kernels.txt") passed, test_cuda_agrees among them"
	fi
else
	tail -30 "$OUT/test_kernels.txt" >&2
	FAILED="$FAILED test_kernels"
fi

# ---- 5. the calcium reader on both backends ------------------------------
inputs=()
for d in "$ROOT/gpu-data/LIDC-IDRI-0002" "${ZY_DATA:+$ZY_DATA/ct/LIDC-IDRI-0002}" \
    "$ROOT/../shared/data/ct/LIDC-IDRI-0002"; do
	if [ -n "$d" ] && [ -d "$d" ] && [ -n "$(find "$d" -name '*.dcm' -print -quit)" ]; then
		inputs+=("$d")
		break
	fi
done
[ "${#inputs[@]}" -gt 0 ] ||
    say "LIDC-IDRI-0002 not found (gpu-data/, \$ZY_DATA/ct, ../shared/data/ct): phantom only"
say "cacbench -c -f -n $RUNS -p ${inputs[*]:-}"
if ! "$BIN/tests/bench/cacbench" -c -f -n "$RUNS" -p "${inputs[@]}" \
    >"$OUT/cacbench.txt" 2>"$OUT/cacbench.err"; then
	cat "$OUT/cacbench.err" >&2
	FAILED="$FAILED cacbench"
fi

field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
echo
printf 'zhiying GPU check: %s, nproc %s\n' "$(date '+%Y-%m-%d %H:%M')" "$(nproc)"
grep -o 'device="[^"]*"' "$OUT/cacbench.txt" | sort -u | sed 's/^device=/  /'
echo "per study, seconds (median of $RUNS): load = series_load, compute = cac_score + cac_to_ai,"
echo "floor = threshold + 26-connected label of the whole volume on that backend"
printf '%-16s %-22s %-6s %7s %8s %7s %10s %5s %7s\n' input volume backend load compute floor Agatston kept regions
while read -r line; do
	printf '%-16s %-22s %-6s %7.3f %8.4f %7.4f %10.2f %5s %7s\n' "$(field "$line" input)" \
	    "$(field "$line" nx)x$(field "$line" ny)x$(field "$line" nz)@$(field "$line" spacing | cut -d, -f3)mm" \
	    "$(field "$line" backend)" "$(field "$line" load_s)" "$(field "$line" compute_s)" \
	    "$(field "$line" floor_s)" "$(field "$line" agatston)" "$(field "$line" kept)" \
	    "$(field "$line" regions)"
done < <(grep '^CAC ' "$OUT/cacbench.txt")
echo
ncmp=0
while read -r line; do
	ncmp=$((ncmp + 1))
	in=$(field "$line" input)
	case $(field "$line" agree) in
	yes)
		printf '%s: CUDA agrees with the CPU (%s regions; figures %s, lesions %s, text %s); compute %s s vs %s s: %sx\n' \
		    "$in" "$(field "$line" regions)" "$(field "$line" figures)" "$(field "$line" lesions)" \
		    "$(field "$line" text)" "$(field "$line" cpu_s)" "$(field "$line" cuda_s)" \
		    "$(field "$line" speedup)" ;;
	*)
		printf '%s: NOT AGREED: %s\n' "$in" "${line#COMPARE }"
		FAILED="$FAILED cacbench-$in" ;;
	esac
done < <(grep '^COMPARE ' "$OUT/cacbench.txt")
[ "$ncmp" -gt 0 ] || FAILED="$FAILED cacbench-compare"
echo "raw outputs: $OUT/"
[ -z "$FAILED" ] || die "failed:$FAILED"
say "passed"
