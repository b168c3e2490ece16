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
#     fragment, which should use the pieces of the waiting rows' names,
#     applications_waiting_grams (sql/042);
#   - the same for 申请列表 of qx_apply (卫生院 of 青溪): the user's own
#     (the default), the whole institution's, by status and by name;
#   - the whole page through nginx (session, both queries, template) with
#     curl, BENCH_RUNS times per filter, p50/p95, and wrk -t2 -c64 on the
#     plain 待诊断 and 申请列表 for BENCH_SECONDS each, beside a static file
#     of the page's size that nginx serves itself.
# The count under a list without a filter, or filtered by 报告状态 only,
# is read from the totals kept per scope and state (list_counts, sql/041)
# and is exact; under any other filter it stops 1,000 rows past the page
# (lists.c LIST_COUNT_CAP): the page then says 超过 1000 条.  The capped
# count of the rows is timed beside the totals for the unfiltered list,
# and the count as it was before sql/042 (10,000 rows past the page)
# beside each capped count.  The statements are those lists.c sends, with
# their values written in: lists.c sends a list's statements under a
# 关键字 that way (a custom plan each time); the others it prepares, and
# their generic plans can differ.
# Times are reported, never judged: the script fails only when something
# does not run or a page answers other than 200.
#
# Environment: BENCH_ROWS (1000000), BENCH_RUNS (20), BENCH_SECONDS (5),
# BENCH_CAP (1000: the bound of the capped count the pages are checked
# against; 10000 for a binary from before sql/042).
# BENCH_KEEP=1 keeps the stack and its data when done (the folder is
# printed); BENCH_STATE=FOLDER starts such a kept stack again, with the
# binaries and migrations of this tree, and measures it without loading
# anything: the same data before and after a change.
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
[ -z "${BENCH_KEEP:-}${BENCH_STATE:-}" ] || ZY_KEEP=1
trap stack_stop EXIT

mkdir -p "$OUT"
if [ -n "${BENCH_STATE:-}" ]; then
	# The ports are those the kept stack was made with (PostgreSQL's is
	# in its cluster's configuration).
	[ -f "$BENCH_STATE/bench-ports" ] || die "$BENCH_STATE: not a kept bench stack"
	. "$BENCH_STATE/bench-ports"
	ZY_STATE=$BENCH_STATE
	ZY_URL="http://127.0.0.1:$ZY_PORT"
	export ZY_STATE ZY_PORT ZY_FCGI_PORT ZY_PGPORT ZY_SCP_PORT ZY_URL
	say "starting the kept stack in $ZY_STATE"
	ZHIYING_STATE=$ZY_STATE ZHIYING_PORT=$ZY_PORT ZHIYING_FCGI_PORT=$ZY_FCGI_PORT \
	    ZHIYING_SCP_PORT=$ZY_SCP_PORT ZHIYING_PGPORT=$ZY_PGPORT \
	    ZHIYING_SKIP_DEPS=1 ZHIYING_SKIP_BUILD=1 "$ROOT/zhiying.sh" start quiet \
	    >"$OUT/worklist-stack.txt" 2>&1 ||
	    { cat "$OUT/worklist-stack.txt" >&2; die "the stack did not start"; }
else
	say "starting the stack"
	stack_start >"$OUT/worklist-stack.txt" 2>&1 ||
	    { cat "$OUT/worklist-stack.txt" >&2; die "the stack did not start"; }
	printf 'ZY_PORT=%s ZY_FCGI_PORT=%s ZY_PGPORT=%s ZY_SCP_PORT=%s\n' \
	    "$ZY_PORT" "$ZY_FCGI_PORT" "$ZY_PGPORT" "$ZY_SCP_PORT" >"$ZY_STATE/bench-ports"
fi
WORK=$ZY_STATE/bench
mkdir -p "$WORK"

q() { stack_psql -At -c "$1"; }

if [ -z "${BENCH_STATE:-}" ]; then
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
    reported_at, submitted_at, created_at, updated_at, images_missing)
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
    s.t, s.t, s.t,
    -- One waiting application in ten still waits for its images (no
    -- studies are made: the flag the links' trigger keeps is set here).
    s.state IN ('pending', 'reporting', 'returned') AND s.n % 10 = 3
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
-- As autovacuum would after such a load: statistics, and the visibility
-- map that lets the list's index-only scans skip the heap.
VACUUM ANALYZE applications;
EOF
t1=$(date +%s.%N)
count=$(q "SELECT count(*) FROM applications")
[ "$count" -ge "$ROWS" ] || die "only $count applications were made"
say "$count applications in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s"
else
	count=$(q "SELECT count(*) FROM applications")
	say "$count applications kept in $ZY_STATE"
fi
stack_psql -c "SELECT state, mode, count(*) FROM applications GROUP BY 1, 2 ORDER BY 1, 2" \
    >"$OUT/worklist-distribution.txt"

INST=$(q "SELECT id FROM institutions WHERE code = 'YB-CH'")
IDLE=$(awk -F' *= *' '$1 == "lock_idle" { print $2 }' "$ZY_STATE/zhiying.conf")
IDLE=${IDLE:-1800}
# A name that exists, and a 诊断号 fragment (8 digits: a day and a digit).
NAME=$(q "SELECT patient_name FROM applications WHERE length(patient_name) = 3
    AND target_institution_id = $INST AND state = 'pending' ORDER BY id LIMIT 1")
NAME_PART=$(q "SELECT substr('$NAME', 2, 2)")
DIAG_PART=$(q "SELECT substr(diag_no, 3, 8) FROM applications
    WHERE target_institution_id = $INST ORDER BY submitted_at DESC LIMIT 1")

QX=$(q "SELECT id FROM institutions WHERE code = 'QX-PH'")
QXUID=$(q "SELECT id FROM users WHERE login = 'qx_apply'")
QXNAME=$(q "SELECT patient_name FROM applications WHERE length(patient_name) = 3
    AND applicant_institution_id = $QX ORDER BY id LIMIT 1")
CAP=${BENCH_CAP:-1000}
# The bound before sql/042.
OLD_CAP=10000

# The worklist of a doctor of institution $INST, as lists.c builds it.
SCOPE="((a.mode = 'self' AND a.applicant_institution_id = $INST)
 OR (a.mode = 'superior' AND a.target_institution_id = $INST)
 OR (a.assist AND a.assist_institution_id = $INST))"
# A search by name (no digit) checks the institution so that no index of
# the institutions applies (lists.c SQL_READER_NAMES).
NAME_SCOPE="((a.mode = 'self' AND a.applicant_institution_id + 0 = $INST)
 OR (a.mode = 'superior' AND a.target_institution_id + 0 = $INST)
 OR (a.assist AND a.assist_institution_id + 0 = $INST))"
declare -A WHERE URLQ SCOPE_OF PATH_OF ONE_SCAN
SCOPE_OF[fuzzy_name]=$NAME_SCOPE
SCOPE_OF[fuzzy_name2]=$NAME_SCOPE
# The pieces of names: one scan over both states (lists.c list_ids).
ONE_SCAN[fuzzy_name2]=1
NAMES=(none fuzzy_name fuzzy_name2 diag_part tail week status page50
    app_mine app_all app_status app_name)
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

# 申请列表 of qx_apply: the institution's applications, by default the
# user's own.
for n in app_mine app_all app_status app_name; do
	SCOPE_OF[$n]="a.applicant_institution_id = $QX"
	PATH_OF[$n]=/applications
done
WHERE[app_mine]="a.applicant_id = $QXUID"
URLQ[app_mine]=""
WHERE[app_all]="true"
URLQ[app_all]="mine=0"
WHERE[app_status]="a.state = 'reporting'"
URLQ[app_status]="mine=0&status=reporting"
WHERE[app_name]="(a.patient_name ILIKE '%$QXNAME%' OR a.diag_no ILIKE '%$QXNAME%')"
URLQ[app_name]="mine=0&q=$QXNAME"
scope_of() { echo "${SCOPE_OF[$1]:-$SCOPE}"; }

# The filters whose count lists.c reads from list_counts (sql/041): the
# kind and owner of the totals, the states and the 诊断尾号 if any.
declare -A TOTALS
TOTALS[none]="r $INST {pending,reporting}"
TOTALS[status]="r $INST {reporting}"
TOTALS[page50]="r $INST {pending,reporting}"
TOTALS[tail]="r $INST {pending,reporting} 7"
TOTALS[app_mine]="u $QXUID {pending,reporting,in_review,reported,reviewed,cancelled,returned}"
TOTALS[app_all]="i $QX {pending,reporting,in_review,reported,reviewed,cancelled,returned}"
TOTALS[app_status]="i $QX {reporting}"

# The exact count (the figures' reference) and the one lists.c runs.
exact_sql() { echo "SELECT count(*) FROM applications a WHERE $(scope_of "$1") AND ${WHERE[$1]}"; }
count_sql() {
	local kind owner states tail
	if [ -n "${TOTALS[$1]:-}" ]; then
		read -r kind owner states tail <<<"${TOTALS[$1]}"
		echo "SELECT coalesce(sum(n), 0) FROM list_counts
		 WHERE kind = '$kind' AND owner = $owner AND state = ANY ('$states'::text[])
		 $([ "$kind" = u ] && echo "AND inst = $QX") ${tail:+AND tail = '$tail'}"
		return
	fi
	capped_sql "$1"
}
# The count of the rows, capped (all counts before sql/041), at CAP or
# at $2 rows past the page.
capped_sql() {
	local off=0
	[ "$1" = page50 ] && off=980
	echo "SELECT count(*) FROM (SELECT 1 FROM applications a
	 WHERE $(scope_of "$1") AND ${WHERE[$1]} LIMIT $((off + ${2:-$CAP} + 1))) c"
}
page_sql() {
	local off=0
	[ "$1" = page50 ] && off=980
	# 待诊断 by time puts the applications with images first (lists.c
	# list_order); the page's ids first, then their rows.
	local order="a.submitted_at DESC, a.id DESC"
	[ -n "${PATH_OF[$1]:-}" ] || order="${IMAGES_ORDER:-a.images_missing}, $order"
	# Over both waiting states, one branch per state in the index's
	# order, merged (lists.c list_ids); the "before" figure is one scan.
	local ids="SELECT a.id FROM applications a
	  WHERE $(scope_of "$1") AND ${WHERE[$1]}
	  ORDER BY $order LIMIT 20 OFFSET $off" any="a.state = ANY ('{pending,reporting}')" st b rep
	if [ -z "${PATH_OF[$1]:-}" ] && [ -z "${IMAGES_ORDER:-}" ] && [ -z "${ONE_SCAN[$1]:-}" ] &&
	    [[ ${WHERE[$1]} == *"$any"* ]]; then
		ids="SELECT a.id FROM ("
		for st in pending reporting; do
			[ "$st" = pending ] || ids="$ids UNION ALL "
			rep="a.state = '$st'"
			b=${WHERE[$1]/"$any"/$rep}
			ids="$ids(SELECT a.id, a.images_missing, a.submitted_at FROM applications a
			  WHERE $(scope_of "$1") AND $b ORDER BY $order LIMIT $((off + 20)))"
		done
		ids="$ids) a ORDER BY $order LIMIT 20 OFFSET $off"
	fi
	# The columns as lists.c list_rows() reads them: the names by
	# scalar subqueries, not joins.
	echo "SELECT a.id, a.diag_no, a.state, a.mode,
	 a.patient_name, a.patient_sex, a.patient_age, a.exam_type,
	 a.body_part, a.urgency,
	 to_char(a.submitted_at, 'YYYY-MM-DD HH24:MI'),
	 (SELECT name FROM institutions WHERE id = a.applicant_institution_id),
	 a.applicant_institution_id,
	 (SELECT display_name FROM users WHERE id = a.applicant_id),
	 a.assist,
	 coalesce((SELECT name FROM institutions
	  WHERE id = a.assist_institution_id AND a.assist), ''),
	 coalesce((SELECT display_name FROM users WHERE id = a.locked_by), ''),
	 coalesce(a.lock_seen_at < now() - $IDLE * interval '1 s', false),
	 coalesce((SELECT display_name FROM users WHERE id = a.report_author_id), ''),
	 coalesce((SELECT display_name FROM users WHERE id = a.reviewer_id), ''),
	 coalesce(to_char(a.reported_at, 'YYYY-MM-DD HH24:MI'), ''),
	 coalesce((SELECT i.name FROM users u
	  JOIN institutions i ON i.id = u.institution_id
	  WHERE u.id = a.report_author_id),
	 (SELECT name FROM institutions WHERE id = a.target_institution_id),
	 (SELECT name FROM institutions WHERE id = a.applicant_institution_id)),
	 a.return_reason,
	 coalesce((SELECT name FROM institutions WHERE id = a.target_institution_id), ''),
	 (NOT a.images_missing),
	 EXISTS (SELECT 1 FROM study_link_holds h
	  WHERE h.application_id = a.id AND NOT EXISTS (SELECT 1
	  FROM application_studies l WHERE l.application_id = a.id
	  AND l.study_id = h.study_id))
	 FROM (SELECT a.* FROM ($ids) k
	  JOIN applications a ON a.id = k.id) a
	 ORDER BY $order"
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
	# The count before sql/042: 10,000 rows past the page.
	o="- -"
	[ -n "${TOTALS[$n]:-}" ] || o=$(explain_times "$(capped_sql "$n" "$OLD_CAP")" | pct)
	SQL_RES[$n]="$c $p $o"
	ROWS_OF[$n]=$(q "$(exact_sql "$n")")
done

# The same page as before sql/031: one scan of every waiting row, asking
# application_studies row by row whether the images have arrived.
BEFORE=$(IMAGES_ORDER="(NOT EXISTS (SELECT 1 FROM application_studies l
 WHERE l.application_id = a.id))" page_sql none)
BEFORE_RES=$(explain_times "$BEFORE" | pct)
# The count of the unfiltered 待诊断 and 申请列表 as the rows, capped (before
# sql/041), beside the totals.
CAPPED_RES=$(explain_times "$(capped_sql none "$OLD_CAP")" | pct)
CAPPED_APP_RES=$(explain_times "$(capped_sql app_mine "$OLD_CAP")" | pct)
CAPPED_TAIL_RES=$(explain_times "$(capped_sql tail "$OLD_CAP")" | pct)
stack_psql -c "EXPLAIN (ANALYZE, BUFFERS) $(page_sql none)" >"$OUT/worklist-explain-none.txt"

stack_psql -c "EXPLAIN (ANALYZE, BUFFERS) $(count_sql fuzzy_name)" >"$OUT/worklist-explain-fuzzy.txt"
stack_psql -c "EXPLAIN (ANALYZE, BUFFERS) $(page_sql fuzzy_name)" >>"$OUT/worklist-explain-fuzzy.txt"
grep -q 'applications_patient_trgm' "$OUT/worklist-explain-fuzzy.txt" ||
    say "note: the fuzzy name search did not use applications_patient_trgm"
stack_psql -c "EXPLAIN (ANALYZE, BUFFERS) $(page_sql fuzzy_name2)" >"$OUT/worklist-explain-fuzzy2.txt"
stack_psql -c "EXPLAIN (ANALYZE, BUFFERS) $(count_sql fuzzy_name2)" >>"$OUT/worklist-explain-fuzzy2.txt"
grep -q 'applications_waiting_grams' "$OUT/worklist-explain-fuzzy2.txt" ||
    say "note: the two-character search did not use applications_waiting_grams"

# Through nginx: log in as a browser does, then time the pages.
html_unescape() {
	perl -pe 's/&#[xX]([0-9a-fA-F]+);/chr(hex($1))/ge; s/&#([0-9]+);/chr($1)/ge;
	    s/&quot;/"/g; s/&#39;|&apos;/\x27/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/&/g'
}
# login USER: sets COOKIE to the header of USER's session.
login() {
	local jar=$WORK/cookies-$1 code csrf session
	code=$(curl -sS -c "$jar" -o "$WORK/login.html" -w '%{http_code}' "$ZY_URL/login")
	[ "$code" = 200 ] || die "GET /login answered $code"
	csrf=$(grep -o 'name="csrf" value="[^"]*"' "$WORK/login.html" | head -1 |
	    sed 's/.*value="\([^"]*\)"/\1/' | html_unescape)
	code=$(curl -sS -b "$jar" -c "$jar" -o /dev/null -w '%{http_code}' \
	    --data-urlencode "csrf=$csrf" --data-urlencode "login=$1" \
	    --data-urlencode "password=$PASSWORD" --data-urlencode "next=" "$ZY_URL/login")
	[ "$code" = 303 ] || die "POST /login as $1 answered $code"
	session=$(awk '$6 ~ /zy_session$/ && $7 != "" { print $6 "=" $7 }' "$jar" | tail -1)
	[ -n "$session" ] || die "the login as $1 set no zy_session cookie"
	COOKIE="Cookie: $session"
}
login qx_apply
APP_COOKIE=$COOKIE
login "$USER_LOGIN"

# Percent-encode the UTF-8 bytes of $1.
urlenc() { perl -e '$_ = $ARGV[0]; s/([^A-Za-z0-9_.~-])/sprintf("%%%02X", ord($1))/ge; print' "$1"; }
page_url() {
	local qs=${URLQ[$1]}
	case $qs in
	q=*) qs="q=$(urlenc "${qs#q=}")" ;;
	*\&q=*) qs="${qs%%&q=*}&q=$(urlenc "${qs#*&q=}")" ;;
	esac
	echo "$ZY_URL${PATH_OF[$1]:-/worklist}${qs:+?$qs}"
}
cookie_of() { if [ -n "${PATH_OF[$1]:-}" ]; then echo "$APP_COOKIE"; else echo "$COOKIE"; fi; }

say "through nginx: curl, $RUNS requests per page"
declare -A WEB_RES
for n in "${NAMES[@]}"; do
	url=$(page_url "$n")
	: >"$WORK/times"
	for ((i = 0; i < RUNS; i++)); do
		read -r code t < <(curl -sS -H "$(cookie_of "$n")" -o "$WORK/page.html" \
		    -w '%{http_code} %{time_total}\n' "$url")
		[ "$code" = 200 ] || die "GET $url answered $code"
		awk -v t="$t" 'BEGIN { printf "%.3f\n", t * 1000 }' >>"$WORK/times"
	done
	grep -q 'id="list-total"' "$WORK/page.html" || die "GET $url is not the list"
	shown=$(grep -o 'id="list-total">[0-9]*' "$WORK/page.html" | grep -o '[0-9]*$')
	off=0
	[ "$n" = page50 ] && off=980
	if [ -n "${TOTALS[$n]:-}" ]; then
		[ "$shown" = "${ROWS_OF[$n]}" ] && grep -q "共 <strong id=\"list-total\">" "$WORK/page.html" ||
		    die "$n: the page counts $shown, the query ${ROWS_OF[$n]} (from the totals: exact)"
	elif [ "${ROWS_OF[$n]}" -gt $((off + CAP)) ]; then
		[ "$shown" = $((off + CAP)) ] && grep -q "超过 <strong id=\"list-total\">" "$WORK/page.html" ||
		    die "$n: the page counts $shown, the query ${ROWS_OF[$n]} (over $((off + CAP)))"
	else
		[ "$shown" = "${ROWS_OF[$n]}" ] ||
		    die "$n: the page counts $shown, the query $(echo "${ROWS_OF[$n]}")"
	fi
	WEB_RES[$n]=$(pct <"$WORK/times")
done

# wrk_run NAME URL COOKIE...: "req/s p50 p95 p99" (ms) of wrk -t2 -c64.
to_ms() {
	awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000
		printf "%.1f", n }'
}
wrk_run() {
	local name=$1 url=$2 log=$OUT/worklist-wrk-$1.txt
	shift 2
	wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency "$@" "$url" >"$log" 2>&1 ||
	    { cat "$log" >&2; die "wrk $name failed"; }
	if grep -q 'Non-2xx or 3xx responses' "$log"; then
		cat "$log" >&2
		die "wrk $name: some responses were not 2xx/3xx"
	fi
	echo "$(awk '/^Requests\/sec:/ { print $2 }' "$log")" \
	    "$(to_ms "$(awk '$1 == "50%" { print $2 }' "$log")")" \
	    "$(to_ms "$(awk '$1 == "90%" { print $2 }' "$log")")" \
	    "$(to_ms "$(awk '$1 == "99%" { print $2 }' "$log")")" \
	    "$(awk '/timeout/ { print $NF }' "$log")"
}
WRK_LINES=()
STATIC_EXTRA=()
trap 'rm -f "${STATIC_EXTRA[@]}"; stack_stop' EXIT
if command -v wrk >/dev/null; then
	for spec in "none /worklist" "app_mine /applications"; do
		read -r n lpath <<<"$spec"
		ck=$(cookie_of "$n")
		bytes=$(curl -sS -H "$ck" -o /dev/null -w '%{size_download}' "$ZY_URL$lpath")
		sf=.bench-$$-$n.txt
		head -c "$bytes" /dev/zero | tr '\0' 'x' >"$ROOT/templates/static/$sf"
		STATIC_EXTRA+=("$ROOT/templates/static/$sf")
		say "wrk: ${WRK_SECONDS}s, 2 threads, 64 connections, $lpath and a static file of $bytes bytes"
		read -r drps d50 d90 d99 dto < <(wrk_run "$n" "$ZY_URL$lpath" -H "$ck")
		read -r srps s50 s90 s99 sto < <(wrk_run "$n-static" "$ZY_URL/static/$sf")
		WRK_LINES+=("$(printf '%-14s %9s req/s p50 %7s p90 %7s p99 %7s ms  static %9s req/s p99 %6s ms  ratio %.3f' \
		    "$lpath" "$drps" "$d50" "$d90" "$d99" "$srps" "$s99" \
		    "$(awk -v d="$drps" -v s="$srps" 'BEGIN { print (s > 0 ? d / s : 0) }')")")
	done
else
	WRK_LINES+=("wrk not installed")
fi

echo
printf 'zhiying worklist benchmark: %s applications, %s, %s, nproc %s\n' "$count" \
    "$(date '+%Y-%m-%d %H:%M')" "$(uname -m)" "$(nproc)"
printf 'worklist of 粤北市中心医院 (%s); name "%s", fragment "%s", 诊断号 fragment "%s"\n' \
    "$USER_LOGIN" "$NAME" "$NAME_PART" "$DIAG_PART"
printf '申请列表 of qx_apply (app_*): name "%s"\n' "$QXNAME"
echo
printf '%-12s %9s %14s %14s %14s %16s\n' filter matches 'count p50/p95' 'page p50/p95' 'nginx p50/p95' 'count at 10000'
for n in "${NAMES[@]}"; do
	read -r c50 c95 p50 p95 o50 o95 <<<"${SQL_RES[$n]}"
	read -r w50 w95 <<<"${WEB_RES[$n]}"
	printf '%-12s %9s %14s %14s %14s %16s\n' "$n" "${ROWS_OF[$n]}" "$c50/$c95" "$p50/$p95" "$w50/$w95" "$o50/$o95"
done
echo '(milliseconds; count (from list_counts for none, status, tail, page50, app_mine, app_all, app_status; else capped as lists.c counts, 1,000 rows past the page) and page: EXPLAIN ANALYZE execution time; nginx: curl time_total; count at 10000: the capped count as before sql/042)'
read -r c50 c95 <<<"$CAPPED_RES"
read -r t50 t95 _ <<<"${SQL_RES[none]}"
printf '待诊断 count: the totals (041) %s/%s ms, the rows capped at %s (before) %s/%s ms\n' \
    "$t50" "$t95" "$((OLD_CAP + 1))" "$c50" "$c95"
read -r c50 c95 <<<"$CAPPED_TAIL_RES"
read -r t50 t95 _ <<<"${SQL_RES[tail]}"
printf '待诊断 by 诊断尾号 count: the totals (041) %s/%s ms, the rows capped at %s (before) %s/%s ms\n' \
    "$t50" "$t95" "$((OLD_CAP + 1))" "$c50" "$c95"
read -r c50 c95 <<<"$CAPPED_APP_RES"
read -r t50 t95 _ <<<"${SQL_RES[app_mine]}"
printf '申请列表 count: the totals (041) %s/%s ms, the rows capped at %s (before) %s/%s ms\n' \
    "$t50" "$t95" "$((OLD_CAP + 1))" "$c50" "$c95"
read -r b50 b95 <<<"$BEFORE_RES"
read -r c50 c95 p50 p95 _ <<<"${SQL_RES[none]}"
printf '待诊断 page, images first: flag and a branch per state (031) %s/%s ms, one scan with EXISTS per row (before) %s/%s ms, p95 ratio %.1f\n' \
    "$p50" "$p95" "$b50" "$b95" "$(awk -v a="$b95" -v b="$p95" 'BEGIN { print (b > 0 ? a / b : 0) }')"
echo "wrk -t2 -c64 -d${WRK_SECONDS}s, each beside a static file of its size:"
for l in "${WRK_LINES[@]}"; do echo "  $l"; done
echo
echo "plan of the plain 待诊断 page:"
sed -n '1,/Execution Time/p' "$OUT/worklist-explain-none.txt"
echo
echo "plan of the fuzzy name search (count):"
sed -n '1,/Execution Time/p' "$OUT/worklist-explain-fuzzy.txt"
echo
echo "plan of the two-character search (page):"
sed -n '1,/Execution Time/p' "$OUT/worklist-explain-fuzzy2.txt"
echo "output kept in $OUT/worklist-*.txt"
