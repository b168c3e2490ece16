#!/usr/bin/env bash
# tests/bench/chest.sh - from the last C-STORE of a chest CT to every CT
# reader's result committed, on the real stack.
#
#   tests/bench/chest.sh            (or ./zhiying.sh bench)
#
# A throw-away stack (tests/lib.sh: the real zhiying-scp, zhiying-inferd
# and PostgreSQL with fsync and synchronous_commit on) is started and
# left until its AI job queue is idle (the demo studies' jobs).  A 胸部 CT
# application is then made at the sending institution with the study's
# accession number as its 检查号, so that the receiver links the study to
# it when it arrives, and LIDC-IDRI-0002 is sent with storescu (one
# association).  The time runs from storescu's exit (the last C-STORE
# answered and the association released) to the commit of the last
# result of the series' jobs: each job's end is its finished_at (set at
# the start of the storing transaction, on the same clock) plus the
# daemon's own write time of it.
#
# What is printed, per job and in all:
#  - from the last C-STORE: seconds to the job's result committed;
#  - the daemon's share, from its own line "job N done: ...; load X s,
#    compute Y s (backend), write Z s; anatomy A s of the compute": load
#    (the store look-up and series_load, or the volume held from the
#    series' job before), anatomy (the shared chest anatomy the job's
#    reader made first), the reader's own compute (compute - anatomy),
#    and write (ai_result_store: the result and the job's end in one
#    transaction with its audit row); and cpu, the daemon's CPU seconds
#    over the job's compute (all its threads, from the same line's "CPU C s
#    in the compute"): what other work on the machine does not inflate, as
#    it does the wall times;
#  - what is not the daemon's: matching and queueing (receiver's
#    association end, the matcher's transaction, NOTIFY, claim).
# Peer in the same run: raw read(2) of the same files (loadbench), the
# floor of any load.
#
# Times are reported, never judged: the script fails only when something
# does not build or run, the study is not linked, or a job does not end
# (done, refused or dead) within BENCH_WAIT seconds.  Without the test
# data (ZY_DATA, or ../shared/data beside the checkout) it says so and
# exits 0.
#
# Environment: BENCH_BACKEND (auto, cpu or cuda), BENCH_WAIT (seconds,
# default 600), ZY_DATA.  Raw outputs go to tests/out/bench/chest-*.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ZY_ROOT=$ROOT
. "$ROOT/tests/lib.sh"

BACKEND=${BENCH_BACKEND:-auto}
WAIT=${BENCH_WAIT:-600}
DATA=${ZY_DATA:-$ROOT/../shared/data}
STUDY=$DATA/ct/LIDC-IDRI-0002
OUT=$ROOT/tests/out/bench
PDU=131072
LOADBENCH=$ROOT/tests/bench/loadbench
# A demo sender (zhiying-db demo): the application is made at its
# institution.
AE=YB_PACS

say() { printf '[bench] %s\n' "$*"; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

case $BACKEND in
auto | cpu | cuda) ;;
*) die "BENCH_BACKEND must be auto, cpu or cuda" ;;
esac
case $WAIT in
'' | *[!0-9]*) die "BENCH_WAIT must be a number of seconds" ;;
esac
if ! [ -d "$STUDY" ] || [ -z "$(find "$STUDY" -type f -name '*.dcm' | head -1)" ]; then
	say "skipped: no test data at $STUDY (set ZY_DATA)"
	exit 0
fi
for tool in storescu dcmdump psql make; do
	command -v "$tool" >/dev/null || die "$tool not found (./zhiying.sh deps)"
done
for p in src/web/zhiying-web src/scp/zhiying-scp src/tools/zhiying-db; do
	[ -x "$ROOT/$p" ] || die "$p not built (make)"
done
mkdir -p "$OUT"
rm -f "$OUT"/chest-*

ZY_STATE=
cleanup() {
	if [ -n "${ZY_STATE:-}" ]; then
		cp "$ZY_STATE/log/inferd.log" "$OUT/chest-inferd.log" 2>/dev/null || true
		cp "$ZY_STATE/log/scp.log" "$OUT/chest-scp.log" 2>/dev/null || true
	fi
	stack_stop
}
trap cleanup EXIT

now_us() { local t=$EPOCHREALTIME; echo "${t/[.,]/}"; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }

say "building tests/bench/loadbench, zhiying-inferd"
make -s -C "$ROOT" bench-programs src/infer/zhiying-inferd >"$OUT/chest-build.txt" 2>&1 ||
    { cat "$OUT/chest-build.txt" >&2; die "make failed"; }

mapfile -t files < <(find "$STUDY" -type f -name '*.dcm' | sort)
first=${files[0]}
tag() { dcmdump -q +P "$1" "$first" 2>/dev/null | sed -n 's/^[^[]*\[\(.*\)\].*/\1/p' | head -1; }
ACCESSION=$(tag AccessionNumber)
PATIENT=$(tag PatientID)
[ -n "$ACCESSION" ] || die "no AccessionNumber in $first"

# ---- peer: raw read of the same files --------------------------------------
"$LOADBENCH" -n 3 "$STUDY" >"$OUT/chest-loadbench.txt" 2>&1 ||
    { cat "$OUT/chest-loadbench.txt" >&2; die "loadbench failed"; }
LOADRES=$(grep '^RESULT ' "$OUT/chest-loadbench.txt") || die "loadbench printed no RESULT line"

# ---- the stack -------------------------------------------------------------
say "starting the stack (zhiying-inferd with infer_backend $BACKEND)"
export ZHIYING_INFER_BACKEND=$BACKEND
stack_start >"$OUT/chest-stack.txt" 2>&1 || { cat "$OUT/chest-stack.txt" >&2; die "the stack did not start"; }
unset ZHIYING_INFER_BACKEND
LOG=$ZY_STATE/log/inferd.log
q() { stack_psql -At -c "$1"; }

# The daemon works through the demo studies' jobs first: the series is
# sent once the queue is idle, so that nothing else runs beside it.
t0=$(now_us)
for ((i = 0; i < WAIT; i++)); do
	n=$(q "SELECT count(*) FROM ai_jobs WHERE state IN ('queued', 'running')")
	[ "$n" = 0 ] && break
	sleep 1
done
[ "$n" = 0 ] || die "the demo jobs did not end in $WAIT s"
say "AI queue idle after $(( ($(now_us) - t0) / 1000000 )) s"

# The application: a 胸部 CT at the sender's institution whose 检查号 is
# the study's accession number (the receiver links by it).
INST=$(q "SELECT institution_id FROM dicom_peers WHERE ae_title = '$AE'")
[ -n "$INST" ] || die "no demo sender $AE"
APP=$(q "WITH u AS (INSERT INTO users (institution_id, login, display_name,
	    password_hash, roles) VALUES ($INST, 'chest_bench', '基准测试', 'x',
	    '{applicant}') RETURNING id)
	INSERT INTO applications (diag_no, mode, applicant_id,
	    applicant_institution_id, patient_name, patient_sex, patient_no,
	    exam_type, body_part, accession, exam_date, state, submitted_at)
	SELECT 'ZYCHESTBENCH1', 'self', u.id, $INST, '基准甲', 'O',
	    '${PATIENT:-LIDC}', 'CT', '胸部', '$ACCESSION', '2000-01-01',
	    'pending', now() FROM u RETURNING id")
[ -n "$APP" ] || die "the application was not made"

say "storescu LIDC-IDRI-0002 (${#files[@]} files) from $AE"
TCP_NODELAY=1 storescu -aet "$AE" -aec ZHIYING --max-pdu "$PDU" +sd +r +sp '*.dcm' \
    127.0.0.1 "$ZY_SCP_PORT" "$STUDY" >"$OUT/chest-send.txt" 2>&1 ||
    { tail -5 "$OUT/chest-send.txt" >&2; die "storescu failed"; }
T_SENT=$(now_us)
SIDS="SELECT DISTINCT series_id FROM instances WHERE calling_ae = '$AE'"
linked=$(q "SELECT count(*) FROM application_studies x JOIN series s
    ON s.study_id = x.study_id WHERE x.application_id = $APP AND s.id IN ($SIDS)")
[ "$linked" -gt 0 ] || die "the study was not linked to the application"

# Until every job of the series has ended.
for ((i = 0; i < WAIT * 10; i++)); do
	open=$(q "SELECT count(*) FROM ai_jobs WHERE series_id IN ($SIDS)
	    AND state NOT IN ('done', 'dead', 'refused', 'failed')")
	all=$(q "SELECT count(*) FROM ai_jobs WHERE series_id IN ($SIDS)")
	[ "$all" -gt 0 ] && [ "$open" -eq 0 ] && break
	sleep 0.1
done
[ "$all" -gt 0 ] && [ "$open" -eq 0 ] || die "the jobs did not end in $WAIT s ($open of $all open)"
q "SELECT j.id, j.reader, j.state,
	to_char(extract(epoch FROM j.finished_at), 'FM9999999999.000000'),
	to_char(extract(epoch FROM j.created_at), 'FM9999999999.000000'),
	j.attempts, replace(j.error, '|', '/')
    FROM ai_jobs j WHERE j.series_id IN ($SIDS) ORDER BY j.id" >"$OUT/chest-jobs.txt"
q "SELECT reader, fits, reason FROM series_matches WHERE series_id IN ($SIDS)
    ORDER BY reader" >"$OUT/chest-matches.txt"

# ---- report ----------------------------------------------------------------
sent=$(awk -v t="$T_SENT" 'BEGIN { printf "%.6f", t / 1e6 }')
echo
printf 'zhiying chest CT benchmark: %s, %s, nproc %s, load average %s\n' \
    "$(date '+%Y-%m-%d %H:%M')" "$(uname -m)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "LIDC-IDRI-0002, ${#files[@]} images, sent by storescu to the stack, a 胸部 CT application linked;"
echo "seconds from the last C-STORE answered (storescu's exit) to each result committed"
echo
printf '%-20s %-8s %8s  %8s %8s %8s %8s %8s  %s\n' reader state 'at' load anatomy reader write cpu lesions
awk -F'|' -v sent="$sent" -v lf="$LOG" '
function num(s) { return s == "" ? 0 : s + 0 }
BEGIN {
	while ((getline line < lf) > 0) {
		if (line !~ / done: .* load [0-9.]+ s, compute /)
			continue
		id = line; sub(/.*job /, "", id); sub(/ done:.*/, "", id)
		l = line; sub(/.*load /, "", l); sub(/ s,.*/, "", l)
		c = line; sub(/.*compute /, "", c); sub(/ s .*/, "", c)
		w = line; sub(/.*write /, "", w); sub(/ s.*/, "", w)
		a = line; if (a ~ /anatomy [0-9.]+ s/) { sub(/.*anatomy /, "", a); sub(/ s.*/, "", a) } else a = 0
		p = line; if (p ~ /CPU [0-9.]+ s in the compute/) { sub(/.*CPU /, "", p); sub(/ s in the compute.*/, "", p) } else p = ""
		n = line; sub(/.*done: /, "", n); sub(/ lesion.*/, "", n)
		L[id] = l; C[id] = c; W[id] = w; A[id] = a; N[id] = n; P[id] = p
	}
}
{
	id = $1
	if (id in L) {
		at = $4 - sent + W[id]
		if (at > last) last = at
		printf "%-20s %-8s %8.2f  %8.3f %8.3f %8.3f %8.3f %8s  %s\n", $2, $3, at,
		    L[id], A[id], C[id] - A[id], W[id], P[id] == "" ? "-" : P[id], N[id]
		sl += L[id]; sa += A[id]; sr += C[id] - A[id]; sw += W[id]; sp += num(P[id])
		if (first == "" || $5 < first) first = $5
	} else {
		at = $4 == "" ? 0 : $4 - sent
		if (at > last) last = at
		printf "%-20s %-8s %8.2f  %8s %8s %8s %8s %8s  %s\n", $2, $3, at, "-", "-", "-", "-", "-", $7
	}
}
END {
	printf "%-20s %-8s %8.2f  %8.3f %8.3f %8.3f %8.3f %8.3f\n", "all", "", last, sl, sa, sr, sw, sp
	d = sl + sa + sr + sw
	printf "\nlast result committed %.2f s after the last C-STORE; the daemon'"'"'s jobs %.2f s of it\n", last, d
	printf "(load %.2f, anatomy %.2f, readers %.2f, write %.2f); matching, queueing and claims %.2f s\n", sl, sa, sr, sw, last - d
	printf "the daemon'"'"'s CPU over the readers'"'"' compute %.2f s (all threads; the compute %.2f s of wall)\n", sp, sa + sr
	if (first != "")
		printf "jobs queued %.2f s after the last C-STORE (the receiver matches the series at the association'"'"'s end)\n", first - sent
	printf "RESULT e2e_s=%.3f daemon_s=%.3f load_s=%.3f anatomy_s=%.3f readers_s=%.3f write_s=%.3f cpu_s=%.3f\n", last, d, sl, sa, sr, sw, sp
}' "$OUT/chest-jobs.txt" | tee "$OUT/chest-result.txt"
echo
echo "daemon: $(grep -c 'series [0-9]* loaded' "$LOG") load(s), $(grep -c 'reused' "$LOG") reuse(s) of the volume held; $(grep -m1 'compute backend' "$LOG" | sed 's/.*info: //')"
awk -v raw="$(field "$LOADRES" raw_best)" -v lb="$(field "$LOADRES" load_best)" 'BEGIN {
	printf "peer, same files, same run: raw read(2) %.3f s, series_load %.3f s (loadbench, best of 3)\n", raw, lb }'
echo "goal (issue 19): <= 20 s on the CPU, <= 1 s on a GPU"
echo "raw outputs: $OUT/chest-*"
