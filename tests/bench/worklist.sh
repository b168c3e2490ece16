#!/usr/bin/env bash
# tests/bench/worklist.sh - the 待诊断 list over a million applications.
#
#   tests/bench/worklist.sh
#
# Starts a throw-away stack (tests/lib.sh), fills its database with
# BENCH_ROWS applications (default 1,000,000) in one INSERT ... SELECT over
# generate_series: the demo network's grassroots hospitals as applicants,
# self and superior mode, every state (recent ones mostly waiting, older
# ones mostly reported), two years of dates skewed to the recent past and
# Chinese names from a small table of surnames and given-name syllables.
# Then, for the worklist of 粤北市中心医院 (yb_attending), with the SQL
# lists.c sends:
#   - EXPLAIN (ANALYZE, BUFFERS) of the count and the page query of each
#     filter (none, fuzzy name, 诊断号 fragment, tail number, time range,
#     status, a deep page), BENCH_RUNS times each, p50/p95 of the
#     execution time;
#   - the plan of the fuzzy name search, which should use the trigram
#     index applications_patient_trgm, and that of a two-character
#     fragment, which should use applications_patient_grams (sql/009);
#   - the whole page through nginx (session, both queries, template) with
#     curl, BENCH_RUNS times per filter, p50/p95, and wrk on the plain
#     worklist for BENCH_SECONDS.
# Times are reported, never judged: the script fails only when something
# does not run or a page answers other than 200.
#
# Environment: BENCH_ROWS (1000000), BENCH_RUNS (20), BENCH_SECONDS (5).
# Output is kept in tests/out/bench/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ZY_ROOT=$ROOT
. "$ROOT/tests/lib.sh"

ROWS=${BENCH_ROWS:-1000000}
RUNS=${BENCH_RUNS:-20}
WRK_SECONDS=${BENCH_SECONDS:-5}
USER_LOGIN=yb_attending
PASSWORD=Zhiying2026
OUT=$ROOT/tests/out/bench

say() { printf '[bench] %s\n' "$*"; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

for tool in curl perl psql; do
	command -v "$tool" >/dev/null || die "$tool not found"
done

ZY_STATE=
trap stack_stop EXIT

mkdir -p "$OUT"
say "starting the stack"
stack_start >"$OUT/worklist-stack.txt" 2>&1 ||
    { cat "$OUT/worklist-stack.txt" >&2; die "the stack did not start"; }
WORK=$ZY_STATE/bench
mkdir -p "$WORK"

q() { stack_psql -At -c "$1"; }

say "generating $ROWS applications"
t0=$(date +%s.%N)
stack_psql >/dev/null <<EOF
SELECT setseed(0.2026);
CREATE TEMP TABLE who AS
    SELECT u.id AS uid, u.institution_id AS inst, x.k, x.weight
    FROM (VALUES ('qx_apply', 0, 30), ('qx_doctor', 1, 10), ('sl_apply', 2, 20),
	('bs_apply', 3, 25), ('lw_apply', 4, 15)) AS x(login, k, weight)
    JOIN users u ON u.login = x.login;
CREATE TEMP TABLE ref AS SELECT
    (SELECT id FROM institutions WHERE code = 'YB-CH') AS yb,
    (SELECT id FROM institutions WHERE code = 'GD-PH') AS gd,
    (SELECT id FROM institutions WHERE code = 'JN-PH') AS jn,
    (SELECT id FROM alliances WHERE code = 'YB-YLT') AS ybylt,
    (SELECT id FROM alliances WHERE code = 'JN-YGT') AS jnygt,
    (SELECT id FROM users WHERE login = 'yb_attending') AS ybdoc,
    (SELECT id FROM users WHERE login = 'jn_attending') AS jndoc,
    (SELECT id FROM users WHERE login = 'qx_doctor') AS qxdoc;
INSERT INTO applications (diag_no, state, mode, applicant_id,
    applicant_institution_id, alliance_id, target_institution_id,
    patient_name, patient_sex, patient_age, patient_no, exam_type, body_part,
    urgency, locked_by, locked_at, lock_seen_at, report_author_id,
    reported_at, submitted_at, created_at, updated_at)
SELECT 'ZY' || to_char(s.t, 'YYYYMMDD') || lpad(s.n::text, 7, '0'),
    s.state, s.mode, w.uid, w.inst,
    CASE WHEN s.mode = 'self' THEN NULL WHEN w.k >= 3 THEN ref.jnygt
	ELSE ref.ybylt END,
    CASE WHEN s.mode = 'self' THEN NULL WHEN w.k >= 3 THEN ref.jn
	WHEN s.r3 < 0.1 THEN ref.gd ELSE ref.yb END,
    (ARRAY['王','李','张','刘','陈','杨','黄','赵','吴','周','徐','孙',
	'马','朱','胡','郭','何','林','罗','高','欧阳','司马'])[1 + (s.r1 * 22)::int % 22]
    || (ARRAY['伟','芳','娜','敏','静','丽','强','磊','军','洋','勇','艳',
	'杰','娟','涛','明','超','秀','霞','平','刚','桂','英','华','建',
	'国','文','玉','兰','志'])[1 + (s.r2 * 30)::int % 30]
    || CASE WHEN s.r3 < 0.6 THEN (ARRAY['明','华','英','军','平','红',
	'芳','杰','强','林','峰','颖'])[1 + (s.r4 * 12)::int % 12] ELSE '' END,
    CASE WHEN s.r4 < 0.5 THEN 'M' ELSE 'F' END,
    (18 + (s.r2 * 70)::int) || '岁', 'P' || s.n,
    CASE WHEN s.r1 < 0.7 THEN 'CT' ELSE 'DR' END,
    CASE WHEN s.r2 < 0.6 THEN '胸部' WHEN s.r2 < 0.8 THEN '腰椎' ELSE '四肢' END,
    CASE WHEN s.r4 < 0.9 THEN 'routine' WHEN s.r4 < 0.97 THEN 'urgent'
	ELSE 'emergency' END,
    CASE WHEN s.state = 'reporting' THEN ref.ybdoc END,
    CASE WHEN s.state = 'reporting' THEN s.t + interval '10 minutes' END,
    CASE WHEN s.state = 'reporting' THEN s.t + interval '20 minutes' END,
    CASE WHEN s.state IN ('in_review', 'reported', 'reviewed') THEN
	CASE WHEN s.mode = 'self' THEN ref.qxdoc WHEN w.k >= 3 THEN ref.jndoc
	ELSE ref.ybdoc END END,
    CASE WHEN s.state IN ('in_review', 'reported', 'reviewed') THEN
	s.t + interval '3 hours' END,
    s.t, s.t, s.t
FROM (
    SELECT g.n, g.t, g.r1, g.r2, g.r3, g.r4, g.pick,
	CASE WHEN g.pick < 0.3 THEN 'self' ELSE 'superior' END AS mode,
	-- Recent applications are mostly waiting, older ones finished.
	CASE WHEN g.t > now() - interval '2 days' THEN
	    CASE WHEN g.r4 < 0.7 THEN 'pending' WHEN g.r4 < 0.9 THEN 'reporting'
		ELSE 'in_review' END
	ELSE CASE WHEN g.r4 < 0.55 THEN 'reported' WHEN g.r4 < 0.9 THEN 'reviewed'
	    WHEN g.r4 < 0.95 THEN 'cancelled' WHEN g.r4 < 0.98 THEN 'returned'
	    ELSE 'pending' END END AS state
    FROM (SELECT n, now() - (random() ^ 3) * interval '730 days' AS t,
	random() AS r1, random() AS r2, random() AS r3, random() AS r4,
	random() AS pick FROM generate_series(1, $ROWS) n) g
) s
CROSS JOIN ref
JOIN who w ON w.k = CASE
    WHEN s.mode = 'self' THEN CASE WHEN s.r1 < 0.5 THEN 1 ELSE 0 END
    WHEN s.r2 < 0.35 THEN 0 WHEN s.r2 < 0.55 THEN 2 WHEN s.r2 < 0.8 THEN 3
    ELSE 4 END;
ANALYZE applications;
EOF
t1=$(date +%s.%N)
count=$(q "SELECT count(*) FROM applications")
[ "$count" -ge "$ROWS" ] || die "only $count applications were made"
say "$count applications in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s"
stack_psql -c "SELECT state, mode, count(*) FROM applications GROUP BY 1, 2 ORDER BY 1, 2" \
    >"$OUT/worklist-distribution.txt"

INST=$(q "SELECT id FROM institutions WHERE code = 'YB-CH'")
IDLE=$(awk -F' *= *' '$1 == "lock_idle" { print $2 }' "$ZY_STATE/zhiying.conf")
IDLE=${IDLE:-1800}
# A name that exists, and a 诊断号 fragment (8 digits: a day and a digit).
NAME=$(q "SELECT patient_name FROM applications WHERE length(patient_name) = 3
    AND target_institution_id = $INST AND state = 'pending' LIMIT 1")
NAME_PART=$(q "SELECT substr('$NAME', 2, 2)")
DIAG_PART=$(q "SELECT substr(diag_no, 3, 8) FROM applications
    WHERE target_institution_id = $INST ORDER BY submitted_at DESC LIMIT 1")

# The worklist of a doctor of institution $INST, as lists.c builds it.
SCOPE="((a.mode = 'self' AND a.applicant_institution_id = $INST)
 OR (a.mode = 'superior' AND a.target_institution_id = $INST)
 OR (a.assist AND a.assist_institution_id = $INST))"
declare -A WHERE URLQ
NAMES=(none fuzzy_name fuzzy_name2 diag_part tail week status page50)
WHERE[none]="a.state = ANY ('{pending,reporting}')"
URLQ[none]=""
WHERE[fuzzy_name]="${WHERE[none]} AND (a.patient_name ILIKE '%$NAME%' OR a.diag_no ILIKE '%$NAME%')"
URLQ[fuzzy_name]="q=$NAME"
# Two characters: through the pieces of names (sql/009), names only.
WHERE[fuzzy_name2]="${WHERE[none]} AND name_grams(a.patient_name) @> ARRAY[lower('$NAME_PART'::text)] AND a.patient_name ILIKE '%$NAME_PART%'"
URLQ[fuzzy_name2]="q=$NAME_PART"
WHERE[diag_part]="${WHERE[none]} AND (a.patient_name ILIKE '%$DIAG_PART%' OR a.diag_no ILIKE '%$DIAG_PART%')"
URLQ[diag_part]="q=$DIAG_PART"
WHERE[tail]="${WHERE[none]} AND right(a.diag_no, 1) = '7'"
URLQ[tail]="tail=7"
WHERE[week]="${WHERE[none]} AND a.submitted_at >= current_date - 6"
URLQ[week]="time=week"
WHERE[status]="a.state = 'reporting'"
URLQ[status]="status=reporting"
WHERE[page50]="${WHERE[none]}"
URLQ[page50]="page=50"

count_sql() { echo "SELECT count(*) FROM applications a WHERE $SCOPE AND ${WHERE[$1]}"; }
page_sql() {
	local off=0
	[ "$1" = page50 ] && off=980
	echo "SELECT a.id, a.diag_no, a.state, a.patient_name, ai.name,
	 coalesce(lu.display_name, ''),
	 coalesce(a.lock_seen_at < now() - $IDLE * interval '1 s', false)
	 FROM (SELECT a.* FROM applications a WHERE $SCOPE AND ${WHERE[$1]}
	  ORDER BY a.submitted_at DESC, a.id DESC LIMIT 20 OFFSET $off) a
	 JOIN institutions ai ON ai.id = a.applicant_institution_id
	 LEFT JOIN users lu ON lu.id = a.locked_by
	 ORDER BY a.submitted_at DESC, a.id DESC"
}

# p50 and p95 of the numbers on standard input.
pct() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- -"; exit }
		i50 = int(NR * 0.50 + 0.5); if (i50 < 1) i50 = 1
		i95 = int(NR * 0.95 + 0.5); if (i95 < 1) i95 = 1; if (i95 > NR) i95 = NR
		printf "%.2f %.2f\n", v[i50], v[i95] }'
}

# Execution time (ms) of EXPLAIN (ANALYZE, BUFFERS) of $1, RUNS times in
# one session.
explain_times() {
	local i
	for ((i = 0; i < RUNS; i++)); do
		printf 'EXPLAIN (ANALYZE, BUFFERS) %s;\n' "$1"
	done | stack_psql -At | awk '/^Execution Time:/ { print $3 }'
}

say "server side: EXPLAIN (ANALYZE, BUFFERS), $RUNS runs per query"
declare -A SQL_RES ROWS_OF
for n in "${NAMES[@]}"; do
	c=$(explain_times "$(count_sql "$n")" | pct)
	p=$(explain_times "$(page_sql "$n")" | pct)
	SQL_RES[$n]="$c $p"
	ROWS_OF[$n]=$(q "$(count_sql "$n")")
done

stack_psql -c "EXPLAIN (ANALYZE, BUFFERS) $(count_sql fuzzy_name)" >"$OUT/worklist-explain-fuzzy.txt"
stack_psql -c "EXPLAIN (ANALYZE, BUFFERS) $(page_sql fuzzy_name)" >>"$OUT/worklist-explain-fuzzy.txt"
grep -q 'applications_patient_trgm' "$OUT/worklist-explain-fuzzy.txt" ||
    say "note: the fuzzy name search did not use applications_patient_trgm"
stack_psql -c "EXPLAIN (ANALYZE, BUFFERS) $(page_sql fuzzy_name2)" >"$OUT/worklist-explain-fuzzy2.txt"
stack_psql -c "EXPLAIN (ANALYZE, BUFFERS) $(count_sql fuzzy_name2)" >>"$OUT/worklist-explain-fuzzy2.txt"
grep -q 'applications_patient_grams' "$OUT/worklist-explain-fuzzy2.txt" ||
    say "note: the two-character search did not use applications_patient_grams"

# Through nginx: log in as a browser does, then time the pages.
html_unescape() {
	perl -pe 's/&#[xX]([0-9a-fA-F]+);/chr(hex($1))/ge; s/&#([0-9]+);/chr($1)/ge;
	    s/&quot;/"/g; s/&#39;|&apos;/\x27/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/&/g'
}
JAR=$WORK/cookies
code=$(curl -sS -c "$JAR" -o "$WORK/login.html" -w '%{http_code}' "$ZY_URL/login")
[ "$code" = 200 ] || die "GET /login answered $code"
csrf=$(grep -o 'name="csrf" value="[^"]*"' "$WORK/login.html" | head -1 |
    sed 's/.*value="\([^"]*\)"/\1/' | html_unescape)
code=$(curl -sS -b "$JAR" -c "$JAR" -o /dev/null -w '%{http_code}' \
    --data-urlencode "csrf=$csrf" --data-urlencode "login=$USER_LOGIN" \
    --data-urlencode "password=$PASSWORD" --data-urlencode "next=" "$ZY_URL/login")
[ "$code" = 303 ] || die "POST /login as $USER_LOGIN answered $code"
session=$(awk '$6 ~ /zy_session$/ && $7 != "" { print $6 "=" $7 }' "$JAR" | tail -1)
[ -n "$session" ] || die "the login set no zy_session cookie"
COOKIE="Cookie: $session"

# Percent-encode the UTF-8 bytes of $1.
urlenc() { perl -e '$_ = $ARGV[0]; s/([^A-Za-z0-9_.~-])/sprintf("%%%02X", ord($1))/ge; print' "$1"; }
page_url() {
	local qs=${URLQ[$1]}
	case $qs in
	q=*) qs="q=$(urlenc "${qs#q=}")" ;;
	esac
	echo "$ZY_URL/worklist${qs:+?$qs}"
}

say "through nginx: curl, $RUNS requests per page"
declare -A WEB_RES
for n in "${NAMES[@]}"; do
	url=$(page_url "$n")
	: >"$WORK/times"
	for ((i = 0; i < RUNS; i++)); do
		read -r code t < <(curl -sS -H "$COOKIE" -o "$WORK/page.html" \
		    -w '%{http_code} %{time_total}\n' "$url")
		[ "$code" = 200 ] || die "GET $url answered $code"
		awk -v t="$t" 'BEGIN { printf "%.3f\n", t * 1000 }' >>"$WORK/times"
	done
	grep -q 'id="list-total"' "$WORK/page.html" || die "GET $url is not the worklist"
	shown=$(grep -o 'id="list-total">[0-9]*' "$WORK/page.html" | grep -o '[0-9]*$')
	[ "$shown" = "${ROWS_OF[$n]}" ] ||
	    die "$n: the page counts $shown, the query $(echo "${ROWS_OF[$n]}")"
	WEB_RES[$n]=$(pct <"$WORK/times")
done

WRK_LINE="wrk not installed"
if command -v wrk >/dev/null; then
	say "wrk: ${WRK_SECONDS}s, 2 threads, 16 connections, /worklist"
	wrk -t2 -c16 -d"${WRK_SECONDS}s" --latency -H "$COOKIE" "$ZY_URL/worklist" \
	    >"$OUT/worklist-wrk.txt" 2>&1 || { cat "$OUT/worklist-wrk.txt" >&2; die "wrk failed"; }
	if grep -q 'Non-2xx or 3xx responses' "$OUT/worklist-wrk.txt"; then
		cat "$OUT/worklist-wrk.txt" >&2
		die "wrk: some responses were not 2xx/3xx"
	fi
	WRK_LINE=$(awk '/^Requests\/sec:/ { r = $2 } $1 == "50%" { p50 = $2 }
	    $1 == "99%" { p99 = $2 } END { printf "%s req/s, p50 %s, p99 %s", r, p50, p99 }' \
	    "$OUT/worklist-wrk.txt")
fi

echo
printf 'zhiying worklist benchmark: %s applications, %s, %s, nproc %s\n' "$count" \
    "$(date '+%Y-%m-%d %H:%M')" "$(uname -m)" "$(nproc)"
printf 'worklist of 粤北市中心医院 (%s); name "%s", fragment "%s", 诊断号 fragment "%s"\n' \
    "$USER_LOGIN" "$NAME" "$NAME_PART" "$DIAG_PART"
echo
printf '%-12s %9s %14s %14s %14s\n' filter matches 'count p50/p95' 'page p50/p95' 'nginx p50/p95'
for n in "${NAMES[@]}"; do
	read -r c50 c95 p50 p95 <<<"${SQL_RES[$n]}"
	read -r w50 w95 <<<"${WEB_RES[$n]}"
	printf '%-12s %9s %14s %14s %14s\n' "$n" "${ROWS_OF[$n]}" "$c50/$c95" "$p50/$p95" "$w50/$w95"
done
echo '(milliseconds; count and page: EXPLAIN ANALYZE execution time; nginx: curl time_total)'
echo "wrk /worklist: $WRK_LINE"
echo
echo "plan of the fuzzy name search (count):"
sed -n '1,/Execution Time/p' "$OUT/worklist-explain-fuzzy.txt"
echo
echo "plan of the two-character search (page):"
sed -n '1,/Execution Time/p' "$OUT/worklist-explain-fuzzy2.txt"
echo "output kept in $OUT/worklist-*.txt"
