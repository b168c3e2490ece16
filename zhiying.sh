#!/usr/bin/env bash
# zhiying.sh - install, build, start and stop a local zhiying; run its tests.
#
#   ./zhiying.sh start    install what is missing, build, start PostgreSQL,
#                         the FastCGI workers, nginx, the DICOM receiver and
#                         the inference daemon, each under a watchdog that
#                         restarts it, with demo data; print the URL and the
#                         demo logins (run again: a clean restart)
#   ./zhiying.sh stop     stop everything this checkout started
#   ./zhiying.sh status   what is running
#   ./zhiying.sh test     the whole test suite (unit, fuzz, integration, browser)
#   ./zhiying.sh bench    the benchmarks
#
# Settings (environment): ZHIYING_STATE (folder of the cluster, logs and
# images; default ./state), ZHIYING_PORT (web, 8080), ZHIYING_FCGI_PORT
# (9000), ZHIYING_SCP_PORT (DICOM, 11112), ZHIYING_PGPORT (5432),
# ZHIYING_WORKERS (4); logs in state/log rotated past ZHIYING_LOG_MAX
# bytes (10 MiB), ZHIYING_LOG_KEEP (5) kept; see cmd_supervise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${ZHIYING_STATE:-$ROOT/state}
PORT=${ZHIYING_PORT:-8080}
FCGI_PORT=${ZHIYING_FCGI_PORT:-9000}
SCP_PORT=${ZHIYING_SCP_PORT:-11112}
PGPORT=${ZHIYING_PGPORT:-5432}
WORKERS=${ZHIYING_WORKERS:-4}

# Debian packages: to build and run, and in addition to test.
RUN_PKGS="build-essential autoconf automake libtool pkg-config
  libfcgi-dev libpq-dev libdcmtk-dev dcmtk libssl-dev libncurses-dev
  libxlsxwriter-dev libcmocka-dev libjansson-dev libsodium-dev
  libopenjp2-7-dev zlib1g-dev libjpeg-dev postgresql postgresql-contrib curl openssl
  ca-certificates"
# A package written pkg:command counts as present when the command is on
# the PATH, whoever installed it (nodejs and npm from another source).
TEST_PKGS="clang:clang chromium:chromium fonts-wqy-microhei nodejs:node npm:npm
  wrk:wrk procps:pgrep python3-openpyxl tmux:tmux poppler-utils:pdftotext"

say() { printf '[zhiying] %s\n' "$*"; }
die() { printf '[zhiying] error: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else die "need root to run: $* (install sudo or run as root)"; fi
}

# Install the Debian packages that are missing.
deps() {
	local want="$RUN_PKGS" missing="" p
	[ "${1:-}" = test ] && want="$RUN_PKGS $TEST_PKGS"
	for p in $want; do
		case $p in
		*:*)	command -v "${p#*:}" >/dev/null && continue; p=${p%%:*} ;;
		esac
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "install ok installed" || missing="$missing $p"
	done
	# Any nginx flavour will do.
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
	if [ -n "$missing" ]; then
		say "installing:$missing"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		    --no-install-recommends $missing
	fi
}

build() {
	cd "$ROOT"
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
		say "autoreconf"
		autoreconf -fi >/dev/null
	fi
	if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
		say "configure"
		./configure -q
	fi
	say "make"
	make -s -j"$(nproc)" >/dev/null
}

pg_bin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do :; done
	[ -x "$d/initdb" ] || die "PostgreSQL server not found (apt-get install postgresql)"
	echo "$d"
}

# PostgreSQL refuses to run as root: then it runs as the postgres user.
pg_user() { if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi; }
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The cluster lives under the state folder; if the postgres user cannot
# reach it there (a checkout in a private home), it lives in /var/lib and
# the state folder links to it.
pg_dir() {
	local dir="$STATE/pg" alt
	if [ -L "$dir" ]; then readlink "$dir"; return; fi
	mkdir -p "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir"
		if ! runuser -u postgres -- test -w "$dir"; then
			alt=/var/lib/zhiying-pg/$(printf '%s' "$STATE" | md5sum | cut -c1-12)
			mkdir -p "$alt"; chown postgres: "$alt"; chmod 700 "$alt"
			rmdir "$dir"; ln -s "$alt" "$dir"
			say "postgres cannot reach $STATE; cluster kept in $alt" >&2
			dir=$alt
		fi
	fi
	echo "$dir"
}

pg_up() {
	local bin dir sock
	bin=$(pg_bin); dir=$(pg_dir); sock="$dir/run"
	as_pg mkdir -p "$sock"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		say "initdb $dir/data"
		as_pg "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 \
		    --locale=C.UTF-8 --auth-local=trust --auth-host=reject >/dev/null
		cat <<-CONF | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
		# zhiying: Unix socket only, in the state folder.
		listen_addresses = ''
		unix_socket_directories = '$sock'
		unix_socket_permissions = 0700
		port = $PGPORT
		max_connections = 200
		shared_buffers = 256MB
		fsync = on
		synchronous_commit = on
		log_min_duration_statement = 1000
		CONF
	fi
	if ! as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null ||
		    die "PostgreSQL did not start; see $dir/postgres.log"
	fi
	PGSOCK=$sock
	psql_su -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'zhiying'" | grep -q 1 ||
	    psql_su -qc "CREATE ROLE zhiying LOGIN"
	psql_su -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'zhiying_app'" | grep -q 1 ||
	    psql_su -qc "CREATE ROLE zhiying_app LOGIN"
	psql_su -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'zhiying_console'" | grep -q 1 ||
	    psql_su -qc "CREATE ROLE zhiying_console LOGIN"
	psql_su -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'zhiying_inferd'" | grep -q 1 ||
	    psql_su -qc "CREATE ROLE zhiying_inferd LOGIN"
	psql_su -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'zhiying_scp'" | grep -q 1 ||
	    psql_su -qc "CREATE ROLE zhiying_scp LOGIN"
	psql_su -tAc "SELECT 1 FROM pg_database WHERE datname = 'zhiying'" | grep -q 1 ||
	    psql_su -qc "CREATE DATABASE zhiying OWNER zhiying ENCODING 'UTF8'"
	psql_su -d zhiying -qc "CREATE EXTENSION IF NOT EXISTS pg_trgm" >/dev/null
}

psql_su() { psql -X -h "$PGSOCK" -p "$PGPORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

pg_down() {
	local bin dir
	bin=$(pg_bin)
	[ -e "$STATE/pg" ] || return 0
	dir=$(pg_dir)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

write_conf() {
	mkdir -p "$STATE/run" "$STATE/log" "$STATE/store" "$STATE/spool" "$STATE/nginx"
	cat >"$STATE/zhiying.conf" <<-CONF
	# Generated by zhiying.sh; ZHIYING_<NAME> environment variables override.
	db = host=$PGSOCK port=$PGPORT dbname=zhiying user=zhiying_app
	db_owner = host=$PGSOCK port=$PGPORT dbname=zhiying user=zhiying
	db_console = host=$PGSOCK port=$PGPORT dbname=zhiying user=zhiying_console
	db_inferd = host=$PGSOCK port=$PGPORT dbname=zhiying user=zhiying_inferd
	db_scp = host=$PGSOCK port=$PGPORT dbname=zhiying user=zhiying_scp
	listen = 127.0.0.1:$FCGI_PORT
	workers = $WORKERS
	templates = $ROOT/templates
	sql = $ROOT/sql
	store = $STATE/store
	scp_port = $SCP_PORT
	scp_spool = $STATE/spool
	CONF
}

# Whether process PID runs: a zombie does not (a watchdog that has ended
# stays one until whoever adopted it reaps it, which can take a while).
running() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	read -r st <"/proc/$1/stat" 2>/dev/null || return 0
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

stop_pidfile() {
	local f=$1 pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f" 2>/dev/null || true)
	if [ -n "$pid" ] && running "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 50); do running "$pid" || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

# Shift FILE.1 .. FILE.(keep-1) up one and copy FILE to FILE.1 once FILE
# is over ZHIYING_LOG_MAX bytes (10 MiB), then truncate it in place: the
# daemons write with O_APPEND, so their next line lands at the new end
# without being restarted (lines written between the copy and the
# truncation are lost, as with logrotate's copytruncate).
rotate_log() {
	local f=$1 max=${ZHIYING_LOG_MAX:-10485760} keep=${ZHIYING_LOG_KEEP:-5} i size
	[ -f "$f" ] || return 0
	size=$(stat -c %s "$f" 2>/dev/null) || return 0
	[ "$size" -gt "$max" ] || return 0
	for ((i = keep - 1; i >= 1; i--)); do
		[ -f "$f.$i" ] && mv -f "$f.$i" "$f.$((i + 1))"
	done
	cp -p "$f" "$f.1" && : >"$f"
}

# The watchdog of one daemon ("zhiying.sh supervise NAME COMMAND..."): it
# runs COMMAND, and when it ends, whatever ended it, logs why and starts it
# again.  A daemon that dies within ZHIYING_RESTART_FAST seconds (10) of
# its start waits twice as long as the last time before the next (1 s, 2 s,
# ... up to 60 s), so that one that cannot start does not spin; one that
# ran longer is started again at once.  Every ZHIYING_WATCHDOG_TICK
# seconds (10) it rotates the daemon's logs.  TERM (zhiying.sh stop) is
# passed on to the daemon; the watchdog then waits for it to end and
# starts nothing more.
cmd_supervise() {
	local name=$1; shift
	local pidf="$STATE/run/$name.pid" log="$STATE/log/$name.log"
	local wlog="$STATE/log/watchdog.log" fast=${ZHIYING_RESTART_FAST:-10}
	local tick=${ZHIYING_WATCHDOG_TICK:-10} delay=0 n=0 pid started rc ended how f
	set +e
	STOPPING= DAEMON= TICKER=
	trap 'STOPPING=1; [ -z "$DAEMON" ] || kill -TERM "$DAEMON" 2>/dev/null
	    [ -z "$TICKER" ] || kill "$TICKER" 2>/dev/null' TERM INT
	echo $$ >"$STATE/run/$name.watchdog.pid"
	while [ -z "$STOPPING" ]; do
		# A pid file left by a daemon that was killed goes; one that
		# names a live process is not ours to take (someone started
		# a daemon by hand: ours then cannot listen, and retries).
		[ -f "$pidf" ] && ! running "$(cat "$pidf" 2>/dev/null)" && rm -f "$pidf"
		started=$SECONDS
		"$@" >>"$log" 2>&1 </dev/null &
		pid=$! DAEMON=$!
		# Wait for the daemon to end, waking every tick to rotate
		# its logs; a signal to the watchdog interrupts the wait too.
		# (wait -n does not see a child that ended before it was
		# called: hence the check first.)
		while :; do
			if ! kill -0 "$pid" 2>/dev/null; then
				wait "$pid"; rc=$?
				break
			fi
			sleep "$tick" & TICKER=$!
			ended=
			wait -n -p ended "$pid" "$TICKER" 2>/dev/null; rc=$?
			if [ "${ended:-}" = "$pid" ]; then
				kill "$TICKER" 2>/dev/null; wait "$TICKER" 2>/dev/null
				TICKER=
				break
			fi
			[ "${ended:-}" = "$TICKER" ] || { kill "$TICKER" 2>/dev/null; wait "$TICKER" 2>/dev/null; }
			TICKER=
			for f in "$log" "$STATE/log/$name"-*.log; do rotate_log "$f"; done
			[ "$name" = web ] && rotate_log "$wlog"
		done
		DAEMON=
		[ -z "$STOPPING" ] || break
		if [ "$rc" -gt 128 ]; then how="killed by signal $((rc - 128))"
		else how="exited with status $rc"; fi
		if [ $((SECONDS - started)) -lt "$fast" ]; then
			delay=$(( delay == 0 ? 1 : (delay >= 30 ? 60 : delay * 2) ))
		else
			delay=0
		fi
		n=$((n + 1))
		printf '%s watchdog[%d]: %s (pid %d) %s after %ds; restart %d in %ds\n' \
		    "$(date '+%Y-%m-%d %H:%M:%S')" $$ "$name" "$pid" "$how" \
		    $((SECONDS - started)) "$n" "$delay" | tee -a "$log" >>"$wlog"
		if [ "$delay" -gt 0 ]; then
			sleep "$delay" & TICKER=$!
			wait "$TICKER" 2>/dev/null
			kill "$TICKER" 2>/dev/null; TICKER=
		fi
	done
	rm -f "$STATE/run/$name.watchdog.pid"
}

# Start NAME's watchdog, which starts COMMAND, and wait until the daemon
# has written its pid file.
daemon_up() {
	local name=$1 i; shift
	daemon_down "$name"
	ZHIYING_STATE="$STATE" ZHIYING_CONF="$STATE/zhiying.conf" setsid \
	    "$ROOT/zhiying.sh" supervise "$name" "$@" >>"$STATE/log/watchdog.log" 2>&1 </dev/null &
	for i in $(seq 100); do
		[ -s "$STATE/run/$name.pid" ] && kill -0 "$(cat "$STATE/run/$name.pid")" 2>/dev/null &&
		    return 0
		sleep 0.1
	done
	daemon_down "$name"
	die "$name did not start; see $STATE/log/$name.log"
}

# The watchdog first (it passes TERM on to its daemon and starts nothing
# more), then the daemon if it outlived it, then whatever of the
# watchdog's session (setsid) outlives both: zhiying-scp's children, one
# per association, which it ends itself when it stops, unless it was
# killed after the wait.
daemon_down() {
	local w
	w=$(cat "$STATE/run/$1.watchdog.pid" 2>/dev/null || true)
	stop_pidfile "$STATE/run/$1.watchdog.pid"
	stop_pidfile "$STATE/run/$1.pid"
	case "$w" in
	''|*[!0-9]*) ;;
	*) pkill -KILL -s "$w" 2>/dev/null || true ;;
	esac
}

web_up() {
	daemon_up web "$ROOT/src/web/zhiying-web" -p "$STATE/run/web.pid"
}

scp_up() {
	daemon_up scp "$ROOT/src/scp/zhiying-scp" -p "$STATE/run/scp.pid"
}

inferd_up() {
	daemon_up inferd "$ROOT/src/infer/zhiying-inferd" -p "$STATE/run/inferd.pid"
}

nginx_up() {
	local user="" mime=/etc/nginx/mime.types params=/etc/nginx/fastcgi_params
	[ -f "$mime" ] || die "nginx's mime.types not found (apt-get install nginx-light)"
	mkdir -p "$STATE/nginx/client_body" "$STATE/nginx/fastcgi" \
	    "$STATE/nginx/proxy" "$STATE/nginx/uwsgi" "$STATE/nginx/scgi"
	# As root, the workers run as root too: they must read the checkout
	# and the spooled bodies the FastCGI workers (also root) read back.
	[ "$(id -u)" -eq 0 ] && user="user root;"
	sed -e "s|@STATIC@|$ROOT/templates/static|g" -e "s|@FCGI@|zhiying_web|g" \
	    -e "s|@FASTCGI_PARAMS@|$params|g" \
	    "$ROOT/nginx/locations.conf.in" >"$STATE/nginx/locations.conf"
	sed -e "s|@USER@|$user|" -e "s|@STATE@|$STATE|g" -e "s|@LISTEN@|127.0.0.1:$PORT|" \
	    -e "s|@MIME_TYPES@|$mime|" -e "s|@FCGI@|127.0.0.1:$FCGI_PORT|g" \
	    "$ROOT/nginx/local.conf.in" >"$STATE/nginx/nginx.conf"
	daemon_down nginx
	nginx -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -t -q 2>>"$STATE/log/nginx-error.log" ||
	    die "nginx configuration refused; see $STATE/log/nginx-error.log"
	daemon_up nginx "$(command -v nginx || echo /usr/sbin/nginx)" -p "$STATE/nginx" \
	    -c "$STATE/nginx/nginx.conf" -g 'daemon off;'
}

wait_http() {
	local i
	for i in $(seq 100); do
		curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "the site does not answer on port $PORT"
}

# Demo applications in every state, made through the running site by the
# demo users (src/tools/zhiying-demo; nothing when they exist already).
# A failure leaves the site running and says where to look.
demo_apps() {
	local t0=$SECONDS
	if ZHIYING_CONF="$STATE/zhiying.conf" "$ROOT/src/tools/zhiying-demo" \
	    -u "http://127.0.0.1:$PORT" -p "$SCP_PORT" -w "$STATE/demo" \
	    2> >(tee -a "$STATE/log/demo.log" >&2); then
		say "demo applications ready ($((SECONDS - t0)) s)"
	else
		say "warning: the demo applications were not all loaded; see $STATE/log/demo.log"
	fi
}

cmd_start() {
	[ "${ZHIYING_SKIP_DEPS:-}" = 1 ] || deps
	[ "${ZHIYING_SKIP_BUILD:-}" = 1 ] || build
	cmd_stop quiet
	pg_up
	write_conf
	ZHIYING_CONF="$STATE/zhiying.conf" "$ROOT/src/tools/zhiying-db" migrate
	ZHIYING_CONF="$STATE/zhiying.conf" "$ROOT/src/tools/zhiying-db" demo >/dev/null
	# A synthetic chest CT with coronary calcium, to upload with a demo
	# application (or send with storescu) and see the AI reader work.
	[ -d "$STATE/demo-ct" ] || "$ROOT/src/tools/zhiying-phantom" -t 1.25 \
	    -P DEMO-CAC-0001 -N 'DEMO^CAC' -o "$STATE/demo-ct" >/dev/null ||
	    die "the demo CT could not be written"
	web_up
	scp_up
	inferd_up
	nginx_up
	wait_http
	# The test stacks (quiet) start empty: their tests count what they
	# make.  ZHIYING_DEMO=0 skips the demo applications too.
	[ "${1:-}" = quiet ] && return 0
	[ "${ZHIYING_DEMO:-1}" = 0 ] || demo_apps
	ZHIYING_CONF="$STATE/zhiying.conf" "$ROOT/src/tools/zhiying-db" logins
	say "DICOM receiver: AE title ZHIYING on port $SCP_PORT (demo senders: QX_PACS, SL_COLLECTOR)"
	say "demo CT with coronary calcium (patient DEMO-CAC-0001): $STATE/demo-ct/"
	say "running: http://127.0.0.1:$PORT/   (stop: ./zhiying.sh stop)"
}

cmd_stop() {
	daemon_down nginx
	daemon_down scp
	daemon_down inferd
	daemon_down web
	pg_down
	[ "${1:-}" = quiet ] || say "stopped"
}

cmd_status() {
	local f
	for f in nginx web scp inferd; do
		if [ -f "$STATE/run/$f.pid" ] && kill -0 "$(cat "$STATE/run/$f.pid")" 2>/dev/null; then
			say "$f running (pid $(cat "$STATE/run/$f.pid"))$(
			    [ -f "$STATE/run/$f.watchdog.pid" ] &&
			    echo ", watchdog pid $(cat "$STATE/run/$f.watchdog.pid")")"
		else say "$f stopped"; fi
	done
	if [ -e "$STATE/pg" ] && as_pg "$(pg_bin)/pg_ctl" -D "$(pg_dir)/data" status >/dev/null 2>&1; then
		say "postgres running"; else say "postgres stopped"; fi
}

case "${1:-}" in
start)	cmd_start "${2:-}" ;;
stop)	cmd_stop ;;
status)	cmd_status ;;
deps)	deps "${2:-}" ;;
supervise) shift; cmd_supervise "$@" ;;
build)	build ;;
test)	[ "${ZHIYING_SKIP_DEPS:-}" = 1 ] || deps test; build; exec "$ROOT/tests/run.sh" ;;
bench)	[ "${ZHIYING_SKIP_DEPS:-}" = 1 ] || deps test; build; "$ROOT/tests/bench/web.sh"
	"$ROOT/tests/bench/worklist.sh"; "$ROOT/tests/bench/stats.sh"
	"$ROOT/tests/bench/dicom.sh"; "$ROOT/tests/bench/cac.sh"; "$ROOT/tests/bench/chest.sh"
	exec "$ROOT/tests/bench/nodule.sh" ;;
*)	sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 2 ;;
esac
