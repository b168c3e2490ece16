#!/usr/bin/env bash
# tests/bench/dicom.sh - what receiving and loading a CT series costs, next
# to DCMTK's storescp and Orthanc.
#
#   tests/bench/dicom.sh          (or ./zhiying.sh bench)
#
# 1. C-STORE ingest of LIDC-IDRI-0002 (261 CT images) with DCMTK's storescu
#    as the sender, into three receivers on loopback, each BENCH_RUNS times:
#    zhiying-scp of a throw-away stack (tests/lib.sh: the real receiver,
#    PostgreSQL index, image store), storescp (DCMTK, files only) and Orthanc
#    (Debian's package, SQLite index; installed with apt-get when missing and
#    run as root, reported and skipped when it cannot be had).  Every run
#    sends instances new to the receiver: for zhiying each run calls from
#    another demo AE title, whose institution has not seen the study; the
#    other two are emptied between runs.  A duplicate resend is timed apart.
#    Each zhiying run starts once the stack's AI job queue is idle: its
#    inference daemon would otherwise run the readers on the demo studies
#    and on the previous run's series on the same cores.
# 2. The series loader: tests/bench/loadbench times series_load() (files to
#    a volume of Hounsfield units) against raw read(2)s of the same files.
#
# Times are reported, never judged: the script fails only when something
# does not run, a sender fails, or a receiver did not keep every image.
# Without the test data (ZY_DATA, or ../shared/data beside the checkout) it
# says so and exits 0.
#
# Environment: BENCH_RUNS (per receiver, 1..5, default 3), ZY_DATA.
# Raw outputs go to tests/out/bench/dicom-*.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ZY_ROOT=$ROOT
. "$ROOT/tests/lib.sh"

RUNS=${BENCH_RUNS:-3}
DATA=${ZY_DATA:-$ROOT/../shared/data}
STUDY=$DATA/ct/LIDC-IDRI-0002
OUT=$ROOT/tests/out/bench
PDU=131072
# Demo senders (zhiying-db demo), each of another institution: a study sent
# from each is new there.  The first is reused for the duplicate resend.
AES=(QX_PACS SL_COLLECTOR BS_COLLECTOR LW_COLLECTOR YB_PACS)

say() { printf '[bench] %s\n' "$*"; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

case $RUNS in
[1-5]) ;;
*) die "BENCH_RUNS must be 1..5 (one demo AE title per zhiying run)" ;;
esac

if [ ! -d "$STUDY" ]; then
	say "skipped: no test data at $STUDY (set ZY_DATA)"
	exit 0
fi
NFILES=$(find "$STUDY" -type f -name '*.dcm' | wc -l)
BYTES=$(find "$STUDY" -type f -name '*.dcm' -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
if [ "$NFILES" -eq 0 ]; then
	say "skipped: no .dcm file under $STUDY"
	exit 0
fi

for tool in storescu storescp curl psql make; do
	command -v "$tool" >/dev/null || die "$tool not found (./zhiying.sh deps)"
done

mkdir -p "$OUT"
rm -f "$OUT"/dicom-*
TMP=$(mktemp -d /tmp/zhiying-bench.XXXXXX)
# Orthanc may run as another user: it must reach its folders.
chmod 755 "$TMP"

# Only what this script started is stopped on exit.
ZY_STATE=
PEER_PID=
stop_peer() {
	local i
	[ -n "$PEER_PID" ] || return 0
	if kill -0 "$PEER_PID" 2>/dev/null; then
		kill -TERM "$PEER_PID" 2>/dev/null || true
		for i in $(seq 100); do kill -0 "$PEER_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$PEER_PID" 2>/dev/null || true
	fi
	wait "$PEER_PID" 2>/dev/null || true
	PEER_PID=
}
save_scp_log() {
	if [ -n "${ZY_STATE:-}" ]; then
		cp "$ZY_STATE/log/scp.log" "$OUT/dicom-zhiying-scp.log" 2>/dev/null || true
	fi
}
cleanup() {
	stop_peer
	save_scp_log
	stack_stop
	rm -rf "$TMP"
}
trap cleanup EXIT

# Whether something listens on TCP port $1 of this machine (no connection
# is made: a probe would show in the receivers' logs as a failed
# association).
listening() {
	local hex
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
	    awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}

# Microseconds since the epoch, without a fork.
now_us() { local t=$EPOCHREALTIME; echo "${t/[.,]/}"; }

# send LABEL CALLING CALLED PORT: storescu the whole study once; sets
# SEND_S (seconds) and SEND_RC; its output goes to dicom-send-LABEL.txt.
send() {
	local log=$OUT/dicom-send-$1.txt t0 t1
	t0=$(now_us)
	set +e
	TCP_NODELAY=1 storescu -aet "$2" -aec "$3" --max-pdu "$PDU" \
	    +sd +r +sp '*.dcm' 127.0.0.1 "$4" "$STUDY" >"$log" 2>&1
	SEND_RC=$?
	set -e
	t1=$(now_us)
	SEND_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
}

# "best median" of the numbers given.
best_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f %.3f\n", v[1], m }'
}

run_line() {	# label seconds
	awk -v l="$1" -v s="$2" -v n="$NFILES" -v b="$BYTES" 'BEGIN {
		printf "  %-34s %7.3f s %8.0f inst/s %8.1f MB/s\n", l, s, n / s, b / 1e6 / s }'
}

RESULTS=$OUT/dicom-results.txt
: >"$RESULTS"
record() {	# name best median settings...
	printf '%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" >>"$RESULTS"
}

FAILED=""
fail_peer() {	# name reason
	say "$1: $2"
	FAILED="$FAILED $1"
}

say "data: $NFILES files, $(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB in $STUDY"
say "building tests/bench/loadbench"
make -s -C "$ROOT" bench-programs >"$OUT/dicom-build.txt" 2>&1 ||
    { cat "$OUT/dicom-build.txt" >&2; die "make bench-programs failed"; }

# ---- zhiying-scp ---------------------------------------------------------
say "starting the stack"
stack_start >"$OUT/dicom-stack.txt" 2>&1 || { cat "$OUT/dicom-stack.txt" >&2; die "the stack did not start"; }
listening "$ZY_SCP_PORT" || die "zhiying-scp does not listen on port $ZY_SCP_PORT"

zy_count() {	# calling AE -> instances indexed from it
	stack_psql -tAc "SELECT count(*) FROM instances WHERE calling_ae = '$1'"
}

# The stack's inference daemon works through the AI jobs of the demo
# studies and then of each run's series (the readers take these two cores
# for tens of seconds).  The receiver is timed alone, as the peers are:
# each run waits (at most 600 s) until no job is queued or running, and
# says how long it waited.
zy_quiet() {
	local i n t0 t1
	t0=$(now_us)
	for i in $(seq 600); do
		n=$(stack_psql -tAc "SELECT count(*) FROM ai_jobs WHERE state IN ('queued', 'running')")
		[ "$n" = 0 ] && break
		sleep 1
	done
	t1=$(now_us)
	say "  AI queue idle after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) / 1e6 }') s ($n job(s) left)"
}

say "zhiying-scp: $RUNS runs, each from another institution's AE title"
times=()
for i in $(seq 0 $((RUNS - 1))); do
	ae=${AES[$i]}
	zy_quiet
	send "zhiying-$i-$ae" "$ae" ZHIYING "$ZY_SCP_PORT"
	[ "$SEND_RC" -eq 0 ] || { cat "$OUT/dicom-send-zhiying-$i-$ae.txt" >&2; die "storescu to zhiying-scp as $ae exited $SEND_RC"; }
	n=$(zy_count "$ae")
	[ "$n" = "$NFILES" ] || die "zhiying-scp indexed $n instances from $ae, not $NFILES"
	run_line "run $((i + 1)) ($ae, new)" "$SEND_S"
	times+=("$SEND_S")
done
read -r ZY_BEST ZY_MED < <(best_median "${times[@]}")

ae=${AES[0]}
zy_quiet
send "zhiying-duplicate-$ae" "$ae" ZHIYING "$ZY_SCP_PORT"
[ "$SEND_RC" -eq 0 ] || { cat "$OUT/dicom-send-zhiying-duplicate-$ae.txt" >&2; die "storescu duplicate resend to zhiying-scp exited $SEND_RC"; }
n=$(zy_count "$ae")
[ "$n" = "$NFILES" ] || die "after the duplicate resend zhiying-scp has $n instances from $ae, not $NFILES"
ZY_DUP=$SEND_S
run_line "duplicate resend ($ae)" "$ZY_DUP"
grep 'association from' "$ZY_STATE/log/scp.log" | sed 's/^/  scp log: /' | tail -n $((RUNS + 1)) >"$OUT/dicom-zhiying-assoc.txt" || true
ZY_SETTINGS="AE ZHIYING, max PDU $PDU, TCP_NODELAY, a process per association; each image spooled, parsed, renamed into the store and fsynced with its folder, then indexed in PostgreSQL (fsync=on, synchronous_commit=on) with an audit row, before its answer; each run after the stack's AI queue went idle"
record "zhiying-scp" "$ZY_BEST" "$ZY_MED" "$ZY_SETTINGS"
record "zhiying-scp duplicate resend" "$ZY_DUP" "$ZY_DUP" "the first run's AE title again: every image already indexed"
save_scp_log
stack_stop >/dev/null

# ---- DCMTK storescp ------------------------------------------------------
SCP_DIR=$TMP/storescp
mkdir -p "$SCP_DIR"
port=$(free_port)
say "storescp: $RUNS runs, port $port"
TCP_NODELAY=1 storescp --max-pdu "$PDU" -dhl -od "$SCP_DIR" -aet STORESCP "$port" \
    >"$OUT/dicom-storescp.log" 2>&1 &
PEER_PID=$!
for i in $(seq 50); do listening "$port" && break; kill -0 "$PEER_PID" 2>/dev/null || break; sleep 0.1; done
if ! listening "$port"; then
	tail -5 "$OUT/dicom-storescp.log" >&2
	fail_peer storescp "could not be started"
	stop_peer
else
	times=()
	for i in $(seq 1 "$RUNS"); do
		find "$SCP_DIR" -mindepth 1 -delete
		send "storescp-$i" STORESCU STORESCP "$port"
		n=$(find "$SCP_DIR" -type f | wc -l)
		if [ "$SEND_RC" -ne 0 ] || [ "$n" != "$NFILES" ]; then
			fail_peer storescp "run $i: storescu exited $SEND_RC, $n files written"
			times=()
			break
		fi
		run_line "run $i (new)" "$SEND_S"
		times+=("$SEND_S")
	done
	stop_peer
	if [ "${#times[@]}" -gt 0 ]; then
		read -r best med < <(best_median "${times[@]}")
		record "storescp (DCMTK $(storescp --version 2>/dev/null | awk 'NR == 1 { print $3 }'))" "$best" "$med" \
		    "TCP_NODELAY=1, --max-pdu $PDU, -dhl, single process; writes each file, no fsync, no index"
	fi
fi

# ---- Orthanc -------------------------------------------------------------
orthanc_bin() {
	command -v Orthanc 2>/dev/null || { [ -x /usr/sbin/Orthanc ] && echo /usr/sbin/Orthanc; } || true
}
ORTHANC=$(orthanc_bin)
if [ -z "$ORTHANC" ] && [ "$(id -u)" -eq 0 ]; then
	say "orthanc: installing Debian's package"
	# Debian's policy-rc.d, where there is one, keeps the system service
	# from starting; this script runs its own.
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends orthanc \
	    >"$OUT/dicom-orthanc-install.txt" 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$OUT/dicom-orthanc-install.txt" 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends orthanc \
		    >>"$OUT/dicom-orthanc-install.txt" 2>&1 || true
	fi
	ORTHANC=$(orthanc_bin)
fi
if [ -z "$ORTHANC" ]; then
	say "orthanc: not available"
else
	ODIR=$TMP/orthanc
	mkdir -p "$ODIR/storage" "$ODIR/index" "$ODIR/tmp"
	oport=$(free_port)
	hport=$(free_port)
	while [ "$hport" = "$oport" ]; do hport=$(free_port); done
	cat >"$ODIR/orthanc.json" <<-JSON
	{
	  "Name": "zhiying-bench",
	  "StorageDirectory": "$ODIR/storage",
	  "IndexDirectory": "$ODIR/index",
	  "TemporaryDirectory": "$ODIR/tmp",
	  "DicomAet": "ORTHANC",
	  "DicomPort": $oport,
	  "HttpPort": $hport,
	  "HttpServerEnabled": true,
	  "RemoteAccessAllowed": false,
	  "AuthenticationEnabled": false,
	  "DicomCheckCalledAet": false,
	  "DicomAlwaysAllowStore": true,
	  "MaximumPduLength": $PDU,
	  "TcpNoDelay": true,
	  "Plugins": []
	}
	JSON
	OURL=http://127.0.0.1:$hport
	# Orthanc runs as root; where it refuses, as nobody.
	start_orthanc() {
		if [ "${1:-}" = nobody ]; then
			chown -R nobody: "$ODIR"
			TCP_NODELAY=1 runuser -u nobody -- "$ORTHANC" "$ODIR/orthanc.json" \
			    >>"$OUT/dicom-orthanc.log" 2>&1 &
		else
			TCP_NODELAY=1 "$ORTHANC" "$ODIR/orthanc.json" >>"$OUT/dicom-orthanc.log" 2>&1 &
		fi
		PEER_PID=$!
		local i
		for i in $(seq 300); do
			if curl -fsS "$OURL/system" >/dev/null 2>&1 && listening "$oport"; then return 0; fi
			kill -0 "$PEER_PID" 2>/dev/null || break
			sleep 0.1
		done
		stop_peer
		return 1
	}
	ostarted=0
	OUSER=root
	if start_orthanc; then ostarted=1
	elif [ "$(id -u)" -eq 0 ] && start_orthanc nobody; then ostarted=1; OUSER=nobody
	fi
	if [ "$ostarted" -eq 0 ]; then
		tail -5 "$OUT/dicom-orthanc.log" >&2
		fail_peer orthanc "could not be started (see $OUT/dicom-orthanc.log)"
	else
		OVERSION=$(curl -fsS "$OURL/system" | sed -n 's/.*"Version" *: *"\([^"]*\)".*/\1/p' | head -1)
		ocount() { curl -fsS "$OURL/statistics" | sed -n 's/.*"CountInstances" *: *\([0-9]*\).*/\1/p' | head -1; }
		oempty() {
			local id
			for id in $(curl -fsS "$OURL/patients" | grep -o '"[0-9a-f-]*"' | tr -d '"'); do
				curl -fsS -X DELETE "$OURL/patients/$id" >/dev/null
			done
			[ "$(ocount)" = 0 ]
		}
		say "orthanc $OVERSION: $RUNS runs, DICOM port $oport, HTTP port $hport, as $OUSER"
		times=()
		for i in $(seq 1 "$RUNS"); do
			if ! oempty; then fail_peer orthanc "could not be emptied before run $i"; times=(); break; fi
			send "orthanc-$i" STORESCU ORTHANC "$oport"
			n=$(ocount)
			if [ "$SEND_RC" -ne 0 ] || [ "$n" != "$NFILES" ]; then
				fail_peer orthanc "run $i: storescu exited $SEND_RC, $n instances stored"
				times=()
				break
			fi
			run_line "run $i (new)" "$SEND_S"
			times+=("$SEND_S")
		done
		if [ "${#times[@]}" -gt 0 ]; then
			send orthanc-duplicate STORESCU ORTHANC "$oport"
			n=$(ocount)
			if [ "$SEND_RC" -ne 0 ] || [ "$n" != "$NFILES" ]; then
				fail_peer orthanc "duplicate resend: storescu exited $SEND_RC, $n instances stored"
			else
				run_line "duplicate resend" "$SEND_S"
			fi
			O_DUP=$SEND_S
			read -r best med < <(best_median "${times[@]}")
			record "Orthanc $OVERSION" "$best" "$med" \
			    "TCP_NODELAY=1, MaximumPduLength $PDU, SQLite index, no plugins, as $OUSER; other options at their defaults (SyncStorageArea true: fsync of each file; StorageCompression false)"
			record "Orthanc duplicate resend" "$O_DUP" "$O_DUP" "the same images again (OverwriteInstances false)"
		fi
		stop_peer
	fi
fi

# ---- the series loader ---------------------------------------------------
say "loadbench: series_load() against raw reads, $RUNS runs after a warm-up"
"$ROOT/tests/bench/loadbench" -n "$RUNS" "$STUDY" >"$OUT/dicom-loadbench.txt" 2>&1 ||
    { cat "$OUT/dicom-loadbench.txt" >&2; die "loadbench failed"; }
LOAD_RESULT=$(grep '^RESULT ' "$OUT/dicom-loadbench.txt") || die "loadbench printed no RESULT line"

# ---- report --------------------------------------------------------------
field() { printf '%s\n' "$LOAD_RESULT" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

echo
printf 'zhiying DICOM benchmark: %s, %s, nproc %s\n' "$(date '+%Y-%m-%d %H:%M')" "$(uname -m)" "$(nproc)"
printf 'study LIDC-IDRI-0002: %s CT images, %s MB (10^6 bytes); %s run(s) per receiver\n' \
    "$NFILES" "$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')" "$RUNS"
echo "sender: TCP_NODELAY=1 storescu --max-pdu $PDU +sd +r +sp '*.dcm' (one association, files in the page cache)"
echo
echo "1. C-STORE ingest"
printf '%-32s %8s %9s %9s %9s\n' receiver 'best s' 'median s' 'inst/s' 'MB/s'
while IFS='|' read -r name best med _; do
	awk -v l="$name" -v b="$best" -v m="$med" -v n="$NFILES" -v by="$BYTES" 'BEGIN {
		printf "%-32s %8.3f %9.3f %9.0f %9.1f\n", l, b, m, n / b, by / 1e6 / b }'
done <"$RESULTS"
echo
ratio() {	# label name
	local row
	row=$(grep -F "$2" "$RESULTS" | grep -v duplicate | head -1) || true
	if [ -z "$row" ]; then
		printf '%s: no figures\n' "$1"
		return
	fi
	awk -F'|' -v l="$1" -v zb="$ZY_BEST" -v zm="$ZY_MED" '{
		printf "%s: %.2f (best), %.2f (median)\n", l, zb / $2, zm / $3 }' <<<"$row"
}
ratio "time zhiying-scp / storescp" storescp
ratio "time zhiying-scp / Orthanc" Orthanc
echo "zhiying-scp's own account (connection to release, in the receiver):"
sed 's/^  scp log: [^ ]* [^ ]* /  /' "$OUT/dicom-zhiying-assoc.txt"
echo
echo "settings:"
while IFS='|' read -r name _ _ settings; do
	printf '  %s: %s\n' "$name" "$settings"
done <"$RESULTS"
[ -n "$ORTHANC" ] || echo "  Orthanc: not available"

echo
echo "2. series to HU volume (tests/bench/loadbench, best of $RUNS after a warm-up)"
sed -n '/^volume /,/^loader/p' "$OUT/dicom-loadbench.txt"
awk -v lb="$(field load_best)" -v mb="$(field mb)" 'BEGIN {
	printf "series_load: %.0f images/s of the series, %.1f MB/s of files\n", '"$NFILES"' / lb, mb / lb }'
echo
echo "raw outputs: $OUT/dicom-*"

if [ -n "$FAILED" ]; then
	die "failed:$FAILED"
fi
