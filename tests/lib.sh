# tests/lib.sh - start and stop a throw-away zhiying for tests and benchmarks.
#
#   . tests/lib.sh
#   stack_start          # sets ZY_STATE, ZY_URL, ZY_PORT, ZY_FCGI_PORT, ZY_PGPORT
#   ...
#   stack_stop
#
# The stack is the real thing: its own PostgreSQL cluster (initdb in a
# temporary folder), the FastCGI worker pool and nginx, on loopback ports
# that are free, started by the same script a user runs.

ZY_ROOT=${ZY_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

# A TCP port nobody listens on.
free_port() {
	local p
	while :; do
		p=$(( (RANDOM % 20000) + 20000 ))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

stack_start() {
	ZY_STATE=$(mktemp -d /tmp/zhiying-test.XXXXXX)
	# The postgres user must reach the cluster folder inside it.
	chmod 755 "$ZY_STATE"
	ZY_PORT=$(free_port)
	ZY_FCGI_PORT=$(free_port)
	while [ "$ZY_FCGI_PORT" = "$ZY_PORT" ]; do ZY_FCGI_PORT=$(free_port); done
	ZY_PGPORT=$(free_port)
	ZY_SCP_PORT=$(free_port)
	ZY_URL="http://127.0.0.1:$ZY_PORT"
	export ZY_STATE ZY_PORT ZY_FCGI_PORT ZY_PGPORT ZY_SCP_PORT ZY_URL
	ZHIYING_STATE=$ZY_STATE ZHIYING_PORT=$ZY_PORT ZHIYING_FCGI_PORT=$ZY_FCGI_PORT \
	    ZHIYING_SCP_PORT=$ZY_SCP_PORT \
	    ZHIYING_PGPORT=$ZY_PGPORT ZHIYING_SKIP_DEPS=1 ZHIYING_SKIP_BUILD=1 \
	    "$ZY_ROOT/zhiying.sh" start quiet
}

stack_stop() {
	[ -n "${ZY_STATE:-}" ] || return 0
	ZHIYING_STATE=$ZY_STATE ZHIYING_PGPORT=$ZY_PGPORT "$ZY_ROOT/zhiying.sh" stop >/dev/null 2>&1 || true
	if [ -n "${ZY_KEEP:-}" ]; then
		echo "kept $ZY_STATE"
	else
		# A cluster kept outside (see zhiying.sh pg_dir) goes too.
		[ -L "$ZY_STATE/pg" ] && rm -rf "$(readlink "$ZY_STATE/pg")"
		rm -rf "$ZY_STATE"
	fi
	ZY_STATE=
}

# psql as the schema owner of the test stack.
stack_psql() {
	local dir
	dir=$(readlink -f "$ZY_STATE/pg")
	psql -X -q -h "$dir/run" -p "$ZY_PGPORT" -U zhiying -d zhiying -v ON_ERROR_STOP=1 "$@"
}
