#!/usr/bin/env bash
# tests/bench/console.sh - the administration console with 100,000 users:
# time opening the Users panel, paging and a search through replay mode,
# and the underlying queries with EXPLAIN ANALYZE.  The users share one
# precomputed Argon2id hash (acceptable for a benchmark: login is not
# what is measured).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib.sh"
N=${BENCH_USERS:-100000}
stack_start >/dev/null
trap stack_stop EXIT
CONF=$ZY_STATE/zhiying.conf

stack_psql -c "INSERT INTO users (institution_id, login, display_name, password_hash, roles)
  SELECT (SELECT id FROM institutions WHERE code = 'SL-THC'), 'bench' || lpad(g::text, 6, '0'),
    '测试' || g, (SELECT password_hash FROM users WHERE login = 'admin'), '{applicant}'
  FROM generate_series(1, $N) g"
stack_psql -c "ANALYZE users"
echo "users: $(stack_psql -tAc 'SELECT count(*) FROM users')"

D=$(mktemp -d)
run() {	# name script
	printf '%s' "$2" >"$D/$1.txt"
	local t0 t1
	t0=$(date +%s%N)
	"$ROOT/admin/zhiying-admin" -c "$CONF" --replay "$D/$1.txt" --dump "$D" --size 80x24
	t1=$(date +%s%N)
	printf '%-28s %6.1f ms wall (login included)  %s\n' "$1" \
	    "$(echo "($t1 - $t0) / 1000000" | bc -l)" \
	    "$(grep -o '查询 [0-9.]* ms' "$D/$1-screen.txt" | head -1)"
}
run open 'admin<Tab>Zhiying2026<Enter><Dump open-screen>'
run page100 "admin<Tab>Zhiying2026<Enter>$(printf '<PgDn>%.0s' $(seq 100))<Dump page100-screen>"
run search-login 'admin<Tab>Zhiying2026<Enter><F3>bench0999<Enter><Dump search-login-screen>'
run search-name 'admin<Tab>Zhiying2026<Enter><F3>测试9999<Enter><Dump search-name-screen>'
run end 'admin<Tab>Zhiying2026<Enter><F3>bench09<Enter><End><PgDn><PgDn><Dump end-screen>'

q() {	# label sql
	echo "== $1"
	stack_psql -c "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) $2" |
	    grep -E 'Index|Scan|Execution|Planning|Sort' | sed 's/^/   /'
}
SEL="SELECT u.id, u.login FROM users u JOIN institutions i ON i.id = u.institution_id"
q "first page" "$SEL WHERE lower(u.login) >= '' ORDER BY lower(u.login) LIMIT 22"
q "page at bench050000" "$SEL WHERE lower(u.login) > 'bench050000' ORDER BY lower(u.login) LIMIT 22"
q "search login prefix" "$SEL WHERE (lower(u.login) LIKE 'bench0999%' OR u.display_name LIKE 'bench0999%') AND lower(u.login) >= '' ORDER BY lower(u.login) LIMIT 22"
q "search name prefix" "$SEL WHERE (lower(u.login) LIKE '测试9999%' OR u.display_name LIKE '测试9999%') AND lower(u.login) >= '' ORDER BY lower(u.login) LIMIT 22"
q "institution admin page" "$SEL WHERE u.institution_id = (SELECT id FROM institutions WHERE code = 'SL-THC') AND lower(u.login) > 'bench050000' ORDER BY lower(u.login) LIMIT 22"
rm -rf "$D"
