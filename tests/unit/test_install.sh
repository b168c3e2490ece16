#!/bin/sh
# tests/unit/test_install.sh - every file of the tree that the installed
# programs read is in Makefile.am's install list: the schema migrations
# (sql/*.sql: zhiying-db applies what it finds in the installed folder, so
# a migration left out of the list is silently never applied on a
# server), the page templates and static files, the nginx files.  Run by
# "make check", which passes the list in ZY_PKGDATA_LIST; prints its
# result the way the cmocka programs do, for tests/run.sh to count.
srcdir=${srcdir:-.}
pass=0 fail=0
[ -n "${ZY_PKGDATA_LIST:-}" ] || { echo "ZY_PKGDATA_LIST is not set (run through make check)"; exit 99; }
for group in 'sql/*.sql' 'templates/*.html' 'templates/static/*' 'nginx/*'; do
	missing=
	for f in "$srcdir"/$group; do
		[ -f "$f" ] || continue
		rel=${f#"$srcdir"/}
		case " $ZY_PKGDATA_LIST " in
		*" $rel "*) ;;
		*) missing="$missing $rel" ;;
		esac
	done
	if [ -z "$missing" ]; then
		echo "[       OK ] installed: $group"
		pass=$((pass + 1))
	else
		echo "[  FAILED  ] not installed by make install (add to nobase_dist_pkgdata_DATA in Makefile.am):$missing"
		fail=$((fail + 1))
	fi
done
echo "[  PASSED  ] $pass test(s)."
if [ "$fail" -gt 0 ]; then
	echo "[  FAILED  ] $fail test(s), listed above."
	exit 1
fi
exit 0
