#!/usr/bin/env bash
# tests/bench/web.sh - what a logged-in page costs next to a static file of
# the same size, both through nginx.
#
#   tests/bench/web.sh            (or ./zhiying.sh bench)
#
# Starts a throw-away stack (tests/lib.sh), logs in as yb_resident with curl,
# measures the home page (/: session lookup in PostgreSQL, template, FastCGI)
# and a file of exactly its size that nginx serves itself from /static/,
# each with wrk, and prints requests/s, median and 99th percentile latency
# and the ratio of the two.  Then the same for 待诊断 (/worklist, as
# yb_attending) and 申请列表 (/applications, as qx_apply), each beside a
# static file of its own size measured right after it.  Times are reported, never judged: the script
# fails only when something does not run or answers other than 200.
#
# Environment: BENCH_SECONDS (per run, default 10), BENCH_THREADS (2),
# BENCH_CONNECTIONS (64), ZHIYING_WORKERS (FastCGI workers, default 4).
# wrk's own output is kept in tests/out/bench/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ZY_ROOT=$ROOT
. "$ROOT/tests/lib.sh"

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
USER_LOGIN=yb_resident
USER_NAME=周子健
LIST_DOCTOR=yb_attending
LIST_APPLICANT=qx_apply
PASSWORD=Zhiying2026
OUT=$ROOT/tests/out/bench
STATIC_NAME=.bench-$$.txt
STATIC_FILE=$ROOT/templates/static/$STATIC_NAME

say() { printf '[bench] %s\n' "$*"; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

for tool in wrk curl perl; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install $tool)"
done

# Only the stack started here is stopped on exit.
ZY_STATE=
STATIC_EXTRA=()
cleanup() {
	rm -f "$STATIC_FILE" "${STATIC_EXTRA[@]}"
	stack_stop
}
trap cleanup EXIT

mkdir -p "$OUT"
say "starting the stack"
stack_start >"$OUT/stack.txt" 2>&1 || { cat "$OUT/stack.txt" >&2; die "the stack did not start"; }
WORK=$ZY_STATE/bench
mkdir -p "$WORK"

# HTML attribute entities back to text (the templates escape every
# character outside [A-Za-z0-9] in attribute values).
html_unescape() {
	perl -pe 's/&#[xX]([0-9a-fA-F]+);/chr(hex($1))/ge; s/&#([0-9]+);/chr($1)/ge;
	    s/&quot;/"/g; s/&#39;|&apos;/\x27/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/&/g'
}

# login USER: logs USER in as a browser does (the login form's
# double-submit token, cookie zy_login and the hidden csrf field, then the
# POST that sets zy_session) and sets COOKIE to the session's header.
login() {
	local user=$1 jar=$WORK/cookies-$1 code csrf session
	code=$(curl -sS -c "$jar" -o "$WORK/login.html" -w '%{http_code}' "$ZY_URL/login")
	[ "$code" = 200 ] || die "GET /login answered $code"
	csrf=$(grep -o 'name="csrf" value="[^"]*"' "$WORK/login.html" | head -1 |
	    sed 's/.*value="\([^"]*\)"/\1/' | html_unescape)
	[ -n "$csrf" ] || die "no csrf field in the login form"
	grep -q 'zy_login' "$jar" || die "GET /login set no zy_login cookie"
	code=$(curl -sS -b "$jar" -c "$jar" -o /dev/null -w '%{http_code} %{redirect_url}' \
	    --data-urlencode "csrf=$csrf" --data-urlencode "login=$user" \
	    --data-urlencode "password=$PASSWORD" --data-urlencode "next=" "$ZY_URL/login")
	case $code in
	30[1237]\ "$ZY_URL/") ;;
	*) die "POST /login as $user answered '$code' (expected a redirect to /)" ;;
	esac
	# The cookie's name may carry a prefix (__Host- over HTTPS).
	session=$(awk '$6 ~ /zy_session$/ && $7 != "" { print $6 "=" $7 }' "$jar" | tail -1)
	[ -n "$session" ] || die "the login as $user set no zy_session cookie"
	COOKIE="Cookie: $session"
}

login "$USER_LOGIN"
HOME_COOKIE=$COOKIE

# The logged-in page: its status, that it is the user's, and its size.
read -r code bytes < <(curl -sS -H "$COOKIE" -o "$WORK/home.html" \
    -w '%{http_code} %{size_download}\n' "$ZY_URL/")
[ "$code" = 200 ] || die "GET / with the session answered $code"
grep -q "id=\"current-user\">$USER_NAME<" "$WORK/home.html" ||
    die "GET / with the session is not $USER_LOGIN's home page"
DYN_BYTES=$bytes

# A static file of exactly that size, served by nginx from /static/.
head -c "$DYN_BYTES" /dev/zero | tr '\0' 'x' >"$STATIC_FILE"
read -r code bytes < <(curl -sS -o /dev/null -w '%{http_code} %{size_download}\n' \
    "$ZY_URL/static/$STATIC_NAME")
[ "$code" = 200 ] || die "GET /static/$STATIC_NAME answered $code"
[ "$bytes" = "$DYN_BYTES" ] || die "the static file is $bytes bytes, not $DYN_BYTES"
STATIC_BYTES=$bytes

# wrk's latency (e.g. 812.00us, 1.53ms, 2.01s) in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000
		else if (u == "m") n *= 60000; else if (u != "ms") { print "?"; exit }
		printf "%.2f", n }'
}

# run NAME URL BYTES [wrk args...]: sets R_RPS, R_P50, R_P99 from wrk's
# output.  wrk flags only statuses over 399: a redirect (a session gone, a
# login page instead of the page) shows as responses smaller than BYTES.
run_wrk() {
	local name=$1 url=$2 body=$3 log avg
	shift 3
	log=$OUT/wrk-$name.txt
	say "wrk $name: ${SECONDS_PER_RUN}s, $THREADS threads, $CONNECTIONS connections, $url"
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$@" "$url" >"$log" 2>&1 ||
	    { cat "$log" >&2; die "wrk $name failed"; }
	if grep -q 'Non-2xx or 3xx responses' "$log"; then
		cat "$log" >&2
		die "wrk $name: some responses were not 2xx/3xx"
	fi
	grep -q ' requests in ' "$log" || { cat "$log" >&2; die "wrk $name: no requests counted"; }
	avg=$(awk '/ requests in / {
		n = $1; v = $5; u = v; sub(/^[0-9.]+/, "", u); v += 0
		if (u == "KB") v *= 1024; else if (u == "MB") v *= 1048576
		else if (u == "GB") v *= 1073741824
		if (n > 0) printf "%d", v / n }' "$log")
	[ "${avg:-0}" -ge $((body * 99 / 100)) ] ||
	    { cat "$log" >&2; die "wrk $name: ${avg:-0} bytes a response, the page has $body"; }
	if grep -q 'Socket errors' "$log"; then
		say "wrk $name: $(grep 'Socket errors' "$log" | sed 's/^ *//')"
	fi
	R_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$log")
	R_P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$log")")
	R_P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$log")")
	if [ -z "$R_RPS" ] || [ -z "$R_P50" ] || [ -z "$R_P99" ] ||
	    [ "$R_P50" = "?" ] || [ "$R_P99" = "?" ]; then
		cat "$log" >&2
		die "wrk $name: cannot read its output"
	fi
}

run_wrk dynamic "$ZY_URL/" "$DYN_BYTES" -H "$HOME_COOKIE"
D_RPS=$R_RPS D_P50=$R_P50 D_P99=$R_P99
# The session is still good after the run (no idle timeout, no logout).
code=$(curl -sS -H "$HOME_COOKIE" -o /dev/null -w '%{http_code}' "$ZY_URL/")
[ "$code" = 200 ] || die "GET / with the session answered $code after the run"

run_wrk static "$ZY_URL/static/$STATIC_NAME" "$STATIC_BYTES"
S_RPS=$R_RPS S_P50=$R_P50 S_P99=$R_P99

# The lists (issue 19): 待诊断 of a reading doctor and 申请列表 of an
# applicant, each beside a static file of its own size, measured in turn.
LIST_PAGES=("worklist /worklist $LIST_DOCTOR" "applications /applications $LIST_APPLICANT")
declare -A L_RES
for spec in "${LIST_PAGES[@]}"; do
	read -r lname lpath luser <<<"$spec"
	login "$luser"
	read -r code bytes < <(curl -sS -H "$COOKIE" -o "$WORK/$lname.html" \
	    -w '%{http_code} %{size_download}\n' "$ZY_URL$lpath")
	[ "$code" = 200 ] || die "GET $lpath as $luser answered $code"
	grep -q 'id="list-total"' "$WORK/$lname.html" || die "GET $lpath as $luser is not the list"
	lstatic=.bench-$$-$lname.txt
	head -c "$bytes" /dev/zero | tr '\0' 'x' >"$ROOT/templates/static/$lstatic"
	STATIC_EXTRA+=("$ROOT/templates/static/$lstatic")
	run_wrk "$lname" "$ZY_URL$lpath" "$bytes" -H "$COOKIE"
	l_dyn="$R_RPS $R_P50 $R_P99"
	run_wrk "$lname-static" "$ZY_URL/static/$lstatic" "$bytes"
	L_RES[$lname]="$bytes $l_dyn $R_RPS $R_P50 $R_P99"
done

conf_workers=$(awk -F' *= *' '$1 == "workers" { print $2 }' "$ZY_STATE/zhiying.conf")
web_pid=$(cat "$ZY_STATE/run/web.pid")
live_workers=$(pgrep -P "$web_pid" | wc -l)

echo
printf 'zhiying web benchmark: wrk -t%s -c%s -d%ss, %s, %s\n' "$THREADS" "$CONNECTIONS" \
    "$SECONDS_PER_RUN" "$(date '+%Y-%m-%d %H:%M')" "$(uname -m)"
printf 'nproc %s, FastCGI workers %s configured (%s running), nginx worker_processes %s\n' \
    "$(nproc)" "$conf_workers" "$live_workers" \
    "$(awk '$1 == "worker_processes" { sub(/;/, "", $2); print $2 }' "$ZY_STATE/nginx/nginx.conf")"
echo
printf '%-28s %8s %12s %10s %10s\n' name bytes req/s 'p50 ms' 'p99 ms'
printf '%-28s %8s %12s %10s %10s\n' "dynamic / ($USER_LOGIN)" "$DYN_BYTES" "$D_RPS" "$D_P50" "$D_P99"
printf '%-28s %8s %12s %10s %10s\n' "static /static/ (nginx)" "$STATIC_BYTES" "$S_RPS" "$S_P50" "$S_P99"
echo
awk -v d="$D_RPS" -v s="$S_RPS" 'BEGIN {
	if (s > 0) printf "dynamic/static req/s: %.3f (static is %.1fx the dynamic rate)\n", d / s, (d > 0 ? s / d : 0)
}'
for spec in "${LIST_PAGES[@]}"; do
	read -r lname lpath luser <<<"$spec"
	read -r b drps dp50 dp99 srps sp50 sp99 <<<"${L_RES[$lname]}"
	echo
	printf '%-28s %8s %12s %10s %10s\n' "dynamic $lpath ($luser)" "$b" "$drps" "$dp50" "$dp99"
	printf '%-28s %8s %12s %10s %10s\n' "static /static/ (nginx)" "$b" "$srps" "$sp50" "$sp99"
	awk -v d="$drps" -v s="$srps" -v p="$lpath" 'BEGIN {
		if (s > 0) printf "%s dynamic/static req/s: %.3f\n", p, d / s
	}'
done
echo "wrk output: $OUT/wrk-*.txt"
