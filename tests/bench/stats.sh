#!/usr/bin/env bash
# tests/bench/stats.sh - 统计 over a million applications.
#
#   tests/bench/stats.sh
#
# Starts a throw-away stack (tests/lib.sh), fills its database with
# BENCH_ROWS applications (default 1,000,000) in one INSERT ... SELECT over
# generate_series (the demo network's grassroots hospitals, both modes,
# every state, two years of dates, reported and reviewed times, authors
# and reviewers) and their history rows, then measures:
#   - zhiying-stats for the province (GD-PH) and for 粤北市中心医院 (YB-CH),
#     day and month buckets, and the province over a range of part months,
#     each twice in the same run: counted from the applications' rows
#     (--from-rows, the old way) and from the kept counts (sql/040), under
#     /usr/bin/time -v: wall time and peak memory (maximum resident set
#     size), and the largest private memory (RssAnon) of a PostgreSQL
#     process meanwhile (issue 19: 64 MB at most); the two workbooks of
#     each pair must be the same (but for the export time);
#   - 导出Excel through nginx as gd_stats: time to the first byte (the
#     download starting) and in total, and the /stats page.
# Figures are reported, never judged: the script fails only when something
# does not run or a page answers other than 200.
#
# Environment: BENCH_ROWS (1000000).  Output is kept in tests/out/bench/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ZY_ROOT=$ROOT
. "$ROOT/tests/lib.sh"

ROWS=${BENCH_ROWS:-1000000}
OUT=$ROOT/tests/out/bench
STATS=$ROOT/src/tools/zhiying-stats

say() { printf '[bench] %s\n' "$*"; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

for tool in curl perl psql python3; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
# Debian's python3-openpyxl reads the workbooks.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
"$PY" -c 'import openpyxl' 2>/dev/null || die "openpyxl not found (apt-get install python3-openpyxl)"
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
[ -x "$STATS" ] || die "$STATS not built"

ZY_STATE=
trap stack_stop EXIT
mkdir -p "$OUT"
say "starting the stack"
stack_start >"$OUT/stats-stack.txt" 2>&1 ||
    { cat "$OUT/stats-stack.txt" >&2; die "the stack did not start"; }
WORK=$ZY_STATE/bench
mkdir -p "$WORK"

say "generating $ROWS applications"
t0=$(date +%s.%N)
stack_psql >/dev/null <<SQL
SELECT setseed(0.2026);
CREATE TEMP TABLE who AS
    SELECT u.id AS uid, u.institution_id AS inst, x.k
    FROM (VALUES ('qx_apply', 0), ('qx_doctor', 1), ('sl_apply', 2),
	('bs_apply', 3), ('lw_apply', 4)) AS x(login, k)
    JOIN users u ON u.login = x.login;
CREATE TEMP TABLE ref AS SELECT
    (SELECT id FROM institutions WHERE code = 'YB-CH') AS yb,
    (SELECT id FROM institutions WHERE code = 'JN-PH') AS jn,
    (SELECT id FROM alliances WHERE code = 'YB-YLT') AS ybylt,
    (SELECT id FROM alliances WHERE code = 'JN-YGT') AS jnygt,
    (SELECT id FROM users WHERE login = 'yb_attending') AS ybdoc,
    (SELECT id FROM users WHERE login = 'yb_assoc') AS ybrev,
    (SELECT id FROM users WHERE login = 'jn_attending') AS jndoc,
    (SELECT id FROM users WHERE login = 'jn_chief') AS jnrev,
    (SELECT id FROM users WHERE login = 'qx_doctor') AS qxdoc;
INSERT INTO applications (diag_no, state, mode, applicant_id,
    applicant_institution_id, alliance_id, target_institution_id, assist,
    assist_institution_id, patient_name, patient_sex, patient_no, exam_type,
    report_author_id, reviewer_id, reported_at, reviewed_at, submitted_at,
    created_at, updated_at)
SELECT 'ZB' || lpad(s.n::text, 9, '0'), s.state, s.mode, w.uid, w.inst,
    CASE WHEN s.mode = 'self' THEN NULL WHEN w.k >= 3 THEN ref.jnygt
	ELSE ref.ybylt END,
    CASE WHEN s.mode = 'self' THEN NULL WHEN w.k >= 3 THEN ref.jn
	ELSE ref.yb END,
    s.r3 < 0.05, CASE WHEN s.r3 < 0.05 THEN
	CASE WHEN w.k >= 3 THEN ref.jn ELSE ref.yb END END,
    '患者' || s.n, CASE WHEN s.r4 < 0.5 THEN 'M' ELSE 'F' END, 'P' || s.n,
    CASE WHEN s.r1 < 0.7 THEN 'CT' ELSE 'DR' END,
    CASE WHEN s.state IN ('in_review', 'reported', 'reviewed') THEN
	CASE WHEN s.mode = 'self' THEN ref.qxdoc WHEN w.k >= 3 THEN ref.jndoc
	ELSE ref.ybdoc END END,
    CASE WHEN s.state = 'reviewed' THEN
	CASE WHEN w.k >= 3 THEN ref.jnrev ELSE ref.ybrev END END,
    CASE WHEN s.state IN ('in_review', 'reported', 'reviewed') THEN
	s.t + (1 + s.r2 * 20) * interval '1 hour' END,
    CASE WHEN s.state = 'reviewed' THEN
	s.t + (22 + s.r2 * 30) * interval '1 hour' END,
    s.t, s.t, s.t
FROM (
    SELECT g.n, g.t, g.r1, g.r2, g.r3, g.r4,
	CASE WHEN g.r3 < 0.3 THEN 'self' ELSE 'superior' END AS mode,
	CASE WHEN g.r4 < 0.05 THEN 'pending' WHEN g.r4 < 0.08 THEN 'reporting'
	    WHEN g.r4 < 0.12 THEN 'in_review' WHEN g.r4 < 0.55 THEN 'reported'
	    WHEN g.r4 < 0.92 THEN 'reviewed' WHEN g.r4 < 0.96 THEN 'cancelled'
	    ELSE 'returned' END AS state
    FROM (SELECT n, now() - (random() ^ 2) * interval '730 days' AS t,
	random() AS r1, random() AS r2, random() AS r3, random() AS r4
	FROM generate_series(1, $ROWS) n) g
) s
CROSS JOIN ref
JOIN who w ON w.k = CASE
    WHEN s.mode = 'self' THEN CASE WHEN s.r1 < 0.5 THEN 1 ELSE 0 END
    ELSE (s.r2 * 5)::int % 5 END;
-- The history the workflow writes: submission, the report (to review or
-- signed), the review, a return; about 2.4 rows an application.
INSERT INTO application_history (application_id, at, actor_id, from_state,
    to_state)
SELECT id, submitted_at, applicant_id, NULL, 'pending' FROM applications
UNION ALL
SELECT id, reported_at, report_author_id, 'reporting',
    CASE WHEN state = 'in_review' OR reviewer_id IS NOT NULL THEN 'in_review'
	ELSE 'reported' END
FROM applications WHERE reported_at IS NOT NULL
UNION ALL
SELECT id, reviewed_at, reviewer_id, 'in_review', 'reviewed'
FROM applications WHERE reviewed_at IS NOT NULL
UNION ALL
SELECT id, submitted_at + interval '2 hours', NULL, 'pending', 'returned'
FROM applications WHERE state = 'returned';
SQL
# As autovacuum leaves a table that has settled: statistics, and the
# visibility map that lets the index-only scans skip the table.
stack_psql -c "VACUUM ANALYZE applications" -c "VACUUM ANALYZE application_history"
t1=$(date +%s.%N)
count=$(stack_psql -At -c "SELECT count(*) FROM applications")
say "$count applications in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s"

# The largest anonymous memory (RssAnon: private, not the shared buffers)
# of any PostgreSQL process while a command runs, in KiB, sampled every
# 0.1 s into $WORK/pg-peak.
pg_sampler() {
	local peak=0 f v
	while :; do
		for f in /proc/[0-9]*/status; do
			# A process may end between the glob and the read.
			v=$(awk '/^Name:/ { n = $2 } /^RssAnon:/ { a = $2 }
			    END { if (n == "postgres") print a + 0 }' "$f" 2>/dev/null) || continue
			[ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v && echo "$peak" >"$WORK/pg-peak"
		done
		sleep 0.1
	done
}
SAMPLER=
sampler_start() { echo 0 >"$WORK/pg-peak"; pg_sampler & SAMPLER=$!; }
sampler_stop() {
	[ -n "$SAMPLER" ] || return 0
	kill "$SAMPLER" 2>/dev/null || true
	wait "$SAMPLER" 2>/dev/null || true
	SAMPLER=
}
trap 'sampler_stop; stack_stop' EXIT

declare -a LINES
run_cli() {	# name scope grain [more options]
	local f=$WORK/$1.xlsx n=$1 s=$2 g=$3
	shift 3
	sampler_start
	/usr/bin/time -v "$STATS" -c "$ZY_STATE/zhiying.conf" --scope "$s" \
	    --grain "$g" "$@" -o "$f" 2>"$OUT/stats-time-$n.txt" >/dev/null ||
	    { cat "$OUT/stats-time-$n.txt" >&2; die "zhiying-stats $n failed"; }
	sampler_stop
	LINES+=("$(awk -v n="$n" -v sz="$(stat -c %s "$f")" -v pg="$(cat "$WORK/pg-peak")" '
	    /Elapsed \(wall clock\)/ { w = $NF }
	    /Maximum resident set size/ { m = $NF }
	    END { printf "%-22s wall %8s  peak RSS %6.1f MiB  postgres RssAnon %6.1f MiB  file %7.1f KiB", n, w, m / 1024, pg / 1024, sz / 1024 }' \
	    "$OUT/stats-time-$n.txt")")
}
# The workbooks of NAME-rows and NAME the same, but for the export time.
same_book() {
	"$PY" - "$WORK/$1-rows.xlsx" "$WORK/$1.xlsx" <<-'PY' ||
	import sys, openpyxl
	def rows(p):
	    wb = openpyxl.load_workbook(p)
	    return [(ws.title, [r for r in ws.iter_rows(values_only=True)
	        if r[0] != '导出时间']) for ws in wb.worksheets]
	sys.exit(0 if rows(sys.argv[1]) == rows(sys.argv[2]) else 1)
	PY
	    die "$1: the workbook from the kept counts differs from the one counted from the rows"
	LINES+=("$(printf '%-22s the same workbook both ways' "$1")")
}
pair() {	# name scope grain [more options]
	local n=$1 s=$2 g=$3
	shift 3
	run_cli "$n-rows" "$s" "$g" --from-rows "$@"
	run_cli "$n" "$s" "$g" "$@"
	same_book "$n"
}
# Every statement over 100 ms into the server's log, with its duration.
stack_psql -U postgres -c "ALTER SYSTEM SET log_min_duration_statement = 100" \
    -c "SELECT pg_reload_conf()" >/dev/null
say "zhiying-stats under /usr/bin/time -v (old: --from-rows; new: kept counts)"
pair province-day GD-PH day
pair province-month GD-PH month
pair yb-day YB-CH day
pair province-range GD-PH week --from "$(date -d '-300 days' +%F)" --to "$(date -d '-20 days' +%F)"

# Through nginx, as gd_stats.
html_unescape() {
	perl -pe 's/&#[xX]([0-9a-fA-F]+);/chr(hex($1))/ge; s/&#([0-9]+);/chr($1)/ge;
	    s/&quot;/"/g; s/&#39;|&apos;/\x27/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/&/g'
}
JAR=$WORK/cookies
curl -sS -c "$JAR" -o "$WORK/login.html" "$ZY_URL/login"
csrf=$(grep -o 'name="csrf" value="[^"]*"' "$WORK/login.html" | head -1 |
    sed 's/.*value="\([^"]*\)"/\1/' | html_unescape)
code=$(curl -sS -b "$JAR" -c "$JAR" -o /dev/null -w '%{http_code}' \
    --data-urlencode "csrf=$csrf" --data-urlencode "login=gd_stats" \
    --data-urlencode "password=Zhiying2026" --data-urlencode "next=" "$ZY_URL/login")
[ "$code" = 303 ] || die "POST /login as gd_stats answered $code"
say "导出Excel and /stats through nginx"
sampler_start
read -r code ttfb total size < <(curl -sS -b "$JAR" -o "$WORK/web.xlsx" \
    -w '%{http_code} %{time_starttransfer} %{time_total} %{size_download}\n' \
    "$ZY_URL/stats/export?grain=month")
sampler_stop
WEB_PG=$(cat "$WORK/pg-peak")
[ "$code" = 200 ] || die "GET /stats/export answered $code"
read -r pcode ptotal < <(curl -sS -b "$JAR" -o "$WORK/page.html" \
    -w '%{http_code} %{time_total}\n' "$ZY_URL/stats?grain=month")
[ "$pcode" = 200 ] || die "GET /stats answered $pcode"

echo
printf 'zhiying 统计 benchmark: %s applications, %s, %s, nproc %s\n' "$count" \
    "$(date '+%Y-%m-%d %H:%M')" "$(uname -m)" "$(nproc)"
for l in "${LINES[@]}"; do echo "$l"; done
printf '导出Excel (web, month)  first byte %ss, total %ss, %s bytes, postgres RssAnon %s MiB\n' \
    "$ttfb" "$total" "$size" "$((WEB_PG / 1024))"
printf '/stats page (month)     total %ss\n' "$ptotal"
echo "output kept in $OUT/stats-*.txt"
