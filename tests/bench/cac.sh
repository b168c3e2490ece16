#!/usr/bin/env bash
# tests/bench/cac.sh - what the coronary calcium reader (冠脉钙化积分) costs
# per study, split as zhiying-inferd splits a job: load, compute, write.
#
#   tests/bench/cac.sh            (or ./zhiying.sh bench)
#
# 1. load and compute: tests/bench/cacbench on the standard phantom at 1.25
#    and at 0.625 mm (written as DICOM by zhiying-phantom) and on
#    LIDC-IDRI-0002: series_load() of the files, then cac_score() and
#    cac_to_ai() on the backend the daemon would pick (BENCH_BACKEND,
#    default auto), BENCH_RUNS times each; medians.
# 2. write: a throw-away stack (tests/lib.sh: the real zhiying-scp and
#    zhiying-inferd on PostgreSQL with fsync and synchronous_commit on).
#    The phantom at 1.25 mm is sent with storescu from BENCH_JOBS demo AE
#    titles of different institutions (a new study at each), and
#    LIDC-IDRI-0002 from the AE titles left (two at most); each is waited
#    for until its calcium job is done before the next is sent, so that
#    nothing else runs beside it.
#    The daemon's own lines "job N done: ...; load X s, compute Y s
#    (backend), write Z s" give write (ai_result_store(): the result, its
#    lesions and figures and the job's end in one transaction with an audit
#    row), and its own load (store lookup and series_load) and compute.
#
# Peers, measured in the same run on the same files:
#  - load: DCMTK reading the series itself, dcmdump +M over all the files
#    in one process (every element parsed, pixel data read into memory; no
#    rescale, no volume), and raw read(2) of the files (loadbench);
#  - compute: a floor, one threshold at the calcium threshold (130 HU at
#    120 kV) and one 26-connected labelling with statistics of the whole
#    volume on the same backend (cacbench -f): the pass every scorer that
#    looks at every voxel makes; the reader makes it on the heart's box
#    after finding the heart (resampling, morphology, labelling).
#
# Times are reported, never judged: the script fails only when something
# does not build or run, or a job does not end as done.  Without the test
# data (ZY_DATA, or ../shared/data beside the checkout) the LIDC part is
# skipped and says so.
#
# Environment: BENCH_RUNS (1..20, default 3), BENCH_JOBS (phantom jobs,
# 1..4, default 3), BENCH_BACKEND (auto, cpu or cuda), ZY_DATA.
# Raw outputs go to tests/out/bench/cac-*.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ZY_ROOT=$ROOT
. "$ROOT/tests/lib.sh"

RUNS=${BENCH_RUNS:-3}
JOBS=${BENCH_JOBS:-3}
BACKEND=${BENCH_BACKEND:-auto}
DATA=${ZY_DATA:-$ROOT/../shared/data}
STUDY=$DATA/ct/LIDC-IDRI-0002
OUT=$ROOT/tests/out/bench
PDU=131072
CACBENCH=$ROOT/tests/bench/cacbench
LOADBENCH=$ROOT/tests/bench/loadbench
PHANTOM=$ROOT/src/tools/zhiying-phantom
READER=ct_coronary_calcium
# Demo senders of different institutions (zhiying-db demo): a series is a
# new study at each.  The phantom goes from the first BENCH_JOBS,
# LIDC-IDRI-0002 from the others.
AES=(QX_PACS SL_COLLECTOR BS_COLLECTOR LW_COLLECTOR YB_PACS)

say() { printf '[bench] %s\n' "$*"; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

case $RUNS in
[1-9] | 1[0-9] | 20) ;;
*) die "BENCH_RUNS must be 1..20" ;;
esac
case $JOBS in
[1-4]) ;;
*) die "BENCH_JOBS must be 1..4 (one demo AE title per job)" ;;
esac
case $BACKEND in
auto | cpu | cuda) ;;
*) die "BENCH_BACKEND must be auto, cpu or cuda" ;;
esac

for tool in storescu dcmdump psql make; do
	command -v "$tool" >/dev/null || die "$tool not found (./zhiying.sh deps)"
done
for p in src/web/zhiying-web src/scp/zhiying-scp src/tools/zhiying-db; do
	[ -x "$ROOT/$p" ] || die "$p not built (make)"
done

mkdir -p "$OUT"
rm -f "$OUT"/cac-*
TMP=$(mktemp -d /tmp/zhiying-cac.XXXXXX)

ZY_STATE=
cleanup() {
	if [ -n "${ZY_STATE:-}" ]; then
		cp "$ZY_STATE/log/inferd.log" "$OUT/cac-inferd.log" 2>/dev/null || true
	fi
	stack_stop
	rm -rf "$TMP"
}
trap cleanup EXIT

# Microseconds since the epoch, without a fork.
now_us() { local t=$EPOCHREALTIME; echo "${t/[.,]/}"; }

# The median of the numbers given, with 4 decimals.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.4f\n", m }'
}

# The value of key $2 in the key=value line $1 ("" when absent).
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }

say "building tests/bench/cacbench, loadbench, zhiying-inferd, zhiying-phantom"
make -s -C "$ROOT" bench-programs src/infer/zhiying-inferd src/tools/zhiying-phantom \
    >"$OUT/cac-build.txt" 2>&1 ||
    { cat "$OUT/cac-build.txt" >&2; die "make failed"; }

# ---- the inputs ----------------------------------------------------------
NAMES=(phantom-1.25mm phantom-0.625mm)
declare -A DIR
for t in 1.25 0.625; do
	d=$TMP/phantom-${t}mm
	say "zhiying-phantom -t $t: the standard phantom as DICOM"
	"$PHANTOM" -t "$t" -P "CACBENCH-$t" -o "$d" >"$OUT/cac-phantom-$t.txt" 2>&1 ||
	    { cat "$OUT/cac-phantom-$t.txt" >&2; die "zhiying-phantom -t $t failed"; }
	DIR[phantom-${t}mm]=$d
done
# The study's folder: the files are in a subfolder, found by every tool
# here (cacbench, loadbench, find, storescu +sd +r) on its own.
LIDC=
if [ -d "$STUDY" ] && [ -n "$(find "$STUDY" -type f -name '*.dcm' | head -1)" ]; then
	LIDC=1
	NAMES+=(LIDC-IDRI-0002)
	DIR[LIDC-IDRI-0002]=$STUDY
fi
[ -n "$LIDC" ] || say "skipped LIDC-IDRI-0002: no test data at $STUDY (set ZY_DATA)"

# ---- 1. load and compute (cacbench) --------------------------------------
args=()
for n in "${NAMES[@]}"; do
	args+=("${DIR[$n]}")
done
say "cacbench -f -b $BACKEND -n $RUNS: ${NAMES[*]}"
"$CACBENCH" -f -b "$BACKEND" -n "$RUNS" "${args[@]}" >"$OUT/cac-cacbench.txt" \
    2>"$OUT/cac-cacbench.err" ||
    { cat "$OUT/cac-cacbench.err" >&2; die "cacbench failed"; }
declare -A CAC
for n in "${NAMES[@]}"; do
	CAC[$n]=$(grep "^CAC input=$n " "$OUT/cac-cacbench.txt") ||
	    die "cacbench printed no line for $n"
done
DEVICE=$(grep -o 'device="[^"]*"' <<<"${CAC[${NAMES[0]}]}" | head -1 | sed 's/^device="//; s/"$//')
USED=$(field "${CAC[${NAMES[0]}]}" backend)

# ---- peers of load: DCMTK and raw reads ----------------------------------
declare -A DCMTK RAW
for n in "${NAMES[@]}"; do
	mapfile -t files < <(find "${DIR[$n]}" -type f -name '*.dcm' | sort)
	say "dcmdump +M over the ${#files[@]} files of $n: a warm-up, then $RUNS runs"
	dcmdump -q +M "${files[@]}" >/dev/null 2>"$OUT/cac-dcmdump.err" ||
	    { tail -5 "$OUT/cac-dcmdump.err" >&2; die "dcmdump failed on $n"; }
	times=()
	for ((i = 0; i < RUNS; i++)); do
		t0=$(now_us)
		dcmdump -q +M "${files[@]}" >/dev/null 2>>"$OUT/cac-dcmdump.err" ||
		    die "dcmdump failed on $n"
		t1=$(now_us)
		times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e6 }')")
	done
	DCMTK[$n]=$(median "${times[@]}")
	"$LOADBENCH" -n "$RUNS" "${DIR[$n]}" >"$OUT/cac-loadbench-$n.txt" 2>&1 ||
	    { cat "$OUT/cac-loadbench-$n.txt" >&2; die "loadbench failed on $n"; }
	RAW[$n]=$(field "$(grep '^RESULT ' "$OUT/cac-loadbench-$n.txt")" raw_median)
done

# ---- 2. write: the daemon on a throw-away stack --------------------------
say "starting the stack (zhiying-inferd with infer_backend $BACKEND)"
export ZHIYING_INFER_BACKEND=$BACKEND
stack_start >"$OUT/cac-stack.txt" 2>&1 || { cat "$OUT/cac-stack.txt" >&2; die "the stack did not start"; }
unset ZHIYING_INFER_BACKEND
LOG=$ZY_STATE/log/inferd.log

q() { stack_psql -At -c "$1"; }

# send NAME AE: storescu the series of NAME from AE, wait until its calcium
# job is done; its id into JOB ("" when the matcher did not queue one: the
# reason is said).
send() {
	local name=$1 ae=$2 log=$OUT/cac-send-$1-$2.txt row="" sids i
	TCP_NODELAY=1 storescu -aet "$ae" -aec ZHIYING --max-pdu "$PDU" \
	    +sd +r +sp '*.dcm' 127.0.0.1 "$ZY_SCP_PORT" "${DIR[$name]}" >"$log" 2>&1 ||
	    { tail -5 "$log" >&2; die "storescu of $name as $ae failed"; }
	sids="SELECT DISTINCT series_id FROM instances WHERE calling_ae = '$ae'"
	JOB=
	for ((i = 0; i < 1800; i++)); do	# 180 s
		row=$(q "SELECT id || '|' || state || '|' || error FROM ai_jobs
		    WHERE reader = '$READER' AND series_id IN ($sids)")
		case $row in
		*'|done|'*) JOB=${row%%|*}; return 0 ;;
		*'|dead|'*) die "$name from $ae: the calcium job is dead: ${row#*|dead|}" ;;
		'')
			# No job: the matcher may have refused the series.
			if [ "$i" -ge 100 ] && [ -n "$(q "SELECT 1 FROM series_matches
			    WHERE reader = '$READER' AND series_id IN ($sids)")" ]; then
				say "$name from $ae: no calcium job: $(q "SELECT reason
				    FROM series_matches WHERE reader = '$READER'
				    AND series_id IN ($sids)")"
				return 0
			fi ;;
		esac
		sleep 0.1
	done
	die "$name from $ae: the calcium job did not end in 180 s (${row:-no job})"
}

declare -A DONE
for ((k = 0; k < JOBS; k++)); do
	say "job $((k + 1))/$JOBS: phantom-1.25mm from ${AES[$k]}"
	send phantom-1.25mm "${AES[$k]}"
	[ -n "$JOB" ] || die "the phantom was not queued for $READER"
	DONE[phantom-1.25mm]+="$JOB "
done
for ((k = JOBS; k < ${#AES[@]} && k < JOBS + 2; k++)); do
	[ -n "$LIDC" ] || break
	say "LIDC-IDRI-0002 from ${AES[$k]}"
	send LIDC-IDRI-0002 "${AES[$k]}"
	[ -n "$JOB" ] || break
	DONE[LIDC-IDRI-0002]+="$JOB "
done

# The daemon's own account of the jobs of each input: medians of its
# load, compute and write, and the lesions stored.
declare -A DLOAD DCOMP DWRITE DN DLES
for n in phantom-1.25mm LIDC-IDRI-0002; do
	[ -n "${DONE[$n]:-}" ] || continue
	l=() c=() w=()
	DLES[$n]=
	for id in ${DONE[$n]}; do
		line=$(grep "job $id done:" "$LOG" | tail -1) ||
		    die "no 'job $id done' line in $LOG"
		echo "$line" >>"$OUT/cac-jobs.txt"
		read -r a b d < <(sed -n 's/.*load \([0-9.]*\) s, compute \([0-9.]*\) s ([a-z]*), write \([0-9.]*\) s.*/\1 \2 \3/p' <<<"$line")
		[ -n "${d:-}" ] || die "cannot read the times of: $line"
		l+=("$a") c+=("$b") w+=("$d")
		DLES[$n]+="$(sed -n 's/.*done: \([0-9]*\) lesion.*/\1/p' <<<"$line") "
	done
	DLOAD[$n]=$(median "${l[@]}")
	DCOMP[$n]=$(median "${c[@]}")
	DWRITE[$n]=$(median "${w[@]}")
	DN[$n]=${#w[@]}
done
DBACKEND=$(sed -n '1s/.*compute [0-9.]* s (\([a-z]*\)).*/\1/p' "$OUT/cac-jobs.txt")

# ---- report --------------------------------------------------------------
echo
printf 'zhiying coronary calcium benchmark: %s, %s, nproc %s\n' "$(date '+%Y-%m-%d %H:%M')" \
    "$(uname -m)" "$(nproc)"
printf 'backend: %s (%s), asked for %s; %s run(s) per figure, medians; seconds per study\n' \
    "$USED" "$DEVICE" "$BACKEND" "$RUNS"
echo
echo "1. per study: load (series_load of the files), compute (cac_score + cac_to_ai), write (ai_result_store in the daemon)"
printf '%-16s %-11s %-17s %8s %8s %8s %8s  %s\n' input voxels 'spacing mm' load compute write total \
    'Agatston / kept / regions'
for n in "${NAMES[@]}"; do
	line=${CAC[$n]}
	w=${DWRITE[$n]:-}
	# The 0.625 mm phantom holds the same lesions as the 1.25 mm one:
	# the same write.
	[ -n "$w" ] || [ "$n" != phantom-0.625mm ] || w=${DWRITE[phantom-1.25mm]:-}
	awk -v n="$n" -v v="$(field "$line" nx)x$(field "$line" ny)x$(field "$line" nz)" \
	    -v s="$(field "$line" spacing | tr , x)" -v l="$(field "$line" load_s)" \
	    -v c="$(field "$line" compute_s)" -v w="${w:--}" -v ag="$(field "$line" agatston)" \
	    -v kept="$(field "$line" kept)" -v reg="$(field "$line" regions)" 'BEGIN {
		t = w == "-" ? "-" : sprintf("%.3f", l + c + w)
		ws = w == "-" ? "-" : sprintf("%.3f", w)
		printf "%-16s %-11s %-17s %8.3f %8.3f %8s %8s  %.1f / %d / %d\n", n, v, s, l, c, ws, t, ag, kept, reg }'
done
echo "(write: median of ${DN[phantom-1.25mm]:-0} phantom job(s) and ${DN[LIDC-IDRI-0002]:-0} LIDC job(s); the 0.625 mm phantom has the 1.25 mm one's lesions, so its write)"
echo
echo "2. peers, the same files in the same run"
echo "load: DCMTK dcmdump +M (one process over all the files: every element parsed, pixel data read; no rescale, no volume); raw read(2) of the files (loadbench)"
printf '%-16s %12s %12s %10s %14s %14s\n' input series_load 'dcmdump +M' 'raw read' 'load/dcmdump' 'load/raw'
for n in "${NAMES[@]}"; do
	awk -v n="$n" -v l="$(field "${CAC[$n]}" load_s)" -v d="${DCMTK[$n]}" -v r="${RAW[$n]}" 'BEGIN {
		printf "%-16s %12.3f %12.3f %10.4f %13.2fx %13.1fx\n", n, l, d, r, l / d, l / r }'
done
echo "compute: the floor, one threshold at 130 HU (120 kV) + one 26-connected labelling with statistics of the whole volume, same backend (cacbench -f)"
printf '%-16s %12s %12s %14s %14s\n' input compute floor compute/floor 'floor regions'
for n in "${NAMES[@]}"; do
	awk -v n="$n" -v c="$(field "${CAC[$n]}" compute_s)" -v f="$(field "${CAC[$n]}" floor_s)" \
	    -v r="$(field "${CAC[$n]}" floor_regions)" 'BEGIN {
		printf "%-16s %12.3f %12.3f %13.1fx %14d\n", n, c, f, c / f, r }'
done
echo
echo "3. the daemon's own account (zhiying-inferd, backend ${DBACKEND:-?}: load = store lookup + series_load, compute = the reader, write = ai_result_store; PostgreSQL fsync=on, synchronous_commit=on)"
printf '%-16s %5s %8s %8s %8s   %s\n' input jobs load compute write 'lesions stored, per job'
for n in phantom-1.25mm LIDC-IDRI-0002; do
	[ -n "${DN[$n]:-}" ] || continue
	printf '%-16s %5s %8.3f %8.3f %8.3f   %s\n' "$n" "${DN[$n]}" "${DLOAD[$n]}" "${DCOMP[$n]}" \
	    "${DWRITE[$n]}" "${DLES[$n]}"
done
[ -n "$LIDC" ] || echo "LIDC-IDRI-0002: skipped, no test data at $STUDY"
echo
echo "raw outputs: $OUT/cac-*"
