#!/usr/bin/env bash
# Load test of provisiond, run by `make load` (which builds bin/provisiond and bin/loadgen first):
# starts the server in the background on a fresh database with a known X-Cart key, waits for
# /readyz, runs bin/loadgen against it with this script's arguments, then stops the server with
# SIGTERM and waits for it.
#
#   .ci/load.sh [LOADGEN FLAGS...]        e.g. .ci/load.sh -c 32 -d 10s -scenario mixed
#
# Environment:
#   LOAD_ADDR              where the server listens (default 127.0.0.1:18181; must be free)
#   LOAD_DATABASE_URL      a fresh PostgreSQL database to use (postgres://…); by default, a new
#                          SQLite database in a temporary directory
#   LOAD_READY_TIMEOUT     seconds to wait for /readyz (default 60)
#   LOAD_COMPARE           1: after the server's run, run the database's bounds with the same
#                          loadgen flags (loadgen -bound gorm, and -bound pgx on PostgreSQL: the
#                          bare insert, without HTTP) on a fresh database of the same kind, and
#                          the same inserts behind HTTP (-bound http-gorm, and http-pgx on
#                          PostgreSQL: a bare net/http handler in loadgen's process that decodes
#                          the JSON body and inserts, driven over loopback HTTP like the server,
#                          a floor that pays for HTTP on the same cores as the server does), and
#                          print the server's throughput as a ratio of each (create scenario
#                          only): to the bare insert (the issue's ratio) and to the HTTP floor;
#                          and the same loadgen run
#                          against Stoplight Prism's mock of the X-Cart spec (a peer that
#                          persists nothing) on LOAD_PRISM_PORT (default 18182); with KRATOS_BIN
#                          (an Ory Kratos binary) and LOAD_DATABASE_URL, also against Kratos' admin
#                          create identity on the same PostgreSQL (its tables beside provisiond's)
#   PROVISIOND_BIN, LOADGEN_BIN   the binaries (default bin/provisiond, bin/loadgen)
# Other PROVISIOND_* settings of the environment (PROVISIOND_DB_MAX_CONNS,
# PROVISIOND_PASSWORD_CONCURRENCY, …) reach the server; its address, database, fixtures and log
# level are set here. The server logs at warn level into the temporary directory; their last
# lines are shown when something fails. The exit status is loadgen's (1 on a 5xx or a transport
# error), or 1 when loadgen passed but the server did not start or stop cleanly.
set -euo pipefail

cd "$(dirname "$0")/.."

server=${PROVISIOND_BIN:-bin/provisiond}
loadgen=${LOADGEN_BIN:-bin/loadgen}
addr=${LOAD_ADDR:-127.0.0.1:18181}
ready_timeout=${LOAD_READY_TIMEOUT:-60}
base="http://$addr"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/provisiond-load.XXXXXX")
log="$tmp/server.log"

say() { printf 'load: %s\n' "$*"; }

# shellcheck source=.ci/server.sh
source .ci/server.sh

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	server_stop || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for f in "$server" "$loadgen"; do
	[ -x "$f" ] || { say "$f is missing: run make load (it builds both binaries)"; exit 2; }
done

if curl -s -o /dev/null --max-time 2 "$base/readyz"; then
	say "something already answers on $addr: set LOAD_ADDR to a free address"
	exit 2
fi

# A known read/write key and a control key (loadgen's -preload), loaded as fixtures: the server
# then generates none for them.
key=$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | cut -c1-32)
control_key=$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | cut -c1-32)
cat >"$tmp/fixtures.yaml" <<EOF
credentials:
  - {api: xcart, secret: $key}
  - {api: control, secret: $control_key}
EOF

if [ -n "${LOAD_DATABASE_URL:-}" ]; then
	db=$LOAD_DATABASE_URL
	dbname="postgres (LOAD_DATABASE_URL)"
else
	db="$tmp/provisiond.db"
	dbname="sqlite $db"
fi

say "starting $server on $addr, database: $dbname"
t0=$(date +%s)
if ! server_start "$addr" "$ready_timeout" PROVISIOND_DATABASE_URL="$db" PROVISIOND_FIXTURES="$tmp/fixtures.yaml" \
	PROVISIOND_LOG_LEVEL=warn PROVISIOND_LOG_FORMAT=text; then
	server_show_log
	exit 1
fi
say "server ready after $(($(date +%s) - t0))s; running $loadgen $*"

rc=0
PROVISIOND_LOAD_KEY=$key PROVISIOND_LOAD_CONTROL_KEY=$control_key "$loadgen" -url "$base" "$@" | tee "$tmp/server.out" || rc=$?

# The server's peak resident memory over the whole run (the kernel's high-water mark).
if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
	say "server peak RSS: $(awk '/^VmHWM:/ {printf "%.1f MiB", $2 / 1024}' "/proc/$pid/status")"
fi

server_rc=0
server_stop || server_rc=$?
lines=$(wc -l <"$log")
say "server stopped with status $server_rc; it logged $lines lines at warn level or above"
if [ "$rc" -ne 0 ] || [ "$server_rc" -ne 0 ]; then
	server_show_log
fi
if [ "$rc" -eq 0 ] && [ "$server_rc" -ne 0 ]; then
	rc=1
fi

# kratos_peer LOADGEN_FLAGS...: migrates Ory Kratos ($KRATOS_BIN) into the load database, serves
# it with an identity schema of one email trait, runs loadgen -target kratos with the same flags
# against its admin API (POST /admin/identities), prints the server's ratio to it, stops it.
kratos_peer() {
	local port=${LOAD_KRATOS_PORT:-18183}
	cat >"$tmp/identity.schema.json" <<'JSON'
{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
 "properties": {"traits": {"type": "object", "required": ["email"], "additionalProperties": false,
  "properties": {"email": {"type": "string", "format": "email",
   "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}}}}}}
JSON
	cat >"$tmp/kratos.yml" <<YAML
dsn: $LOAD_DATABASE_URL
serve:
  public: {base_url: "http://127.0.0.1:$((port + 1))/", host: 127.0.0.1, port: $((port + 1))}
  admin: {base_url: "http://127.0.0.1:$port/", host: 127.0.0.1, port: $port}
selfservice: {default_browser_return_url: "http://127.0.0.1:$((port + 2))/"}
identity:
  default_schema_id: default
  schemas: [{id: default, url: "file://$tmp/identity.schema.json"}]
courier: {smtp: {connection_uri: "smtps://load:load@127.0.0.1:1025/?skip_ssl_verify=true"}}
secrets: {cookie: ["$(head -c 24 /dev/urandom | base64)"], cipher: ["$(head -c 24 /dev/urandom | base64 | cut -c1-32)"]}
log: {level: warning}
YAML
	"$KRATOS_BIN" migrate sql -e --yes --config "$tmp/kratos.yml" >"$tmp/kratos.log" 2>&1 || { say "kratos: migrate failed"; tail -5 "$tmp/kratos.log"; return 1; }
	"$KRATOS_BIN" serve --config "$tmp/kratos.yml" --sqa-opt-out >>"$tmp/kratos.log" 2>&1 &
	local kpid=$! t0=$SECONDS
	until curl -sf -o /dev/null "http://127.0.0.1:$port/admin/health/ready"; do
		if ! kill -0 "$kpid" 2>/dev/null || [ $((SECONDS - t0)) -ge 60 ]; then
			say "kratos: not ready"
			tail -5 "$tmp/kratos.log"
			kill "$kpid" 2>/dev/null || true
			return 1
		fi
		sleep 0.2
	done
	say "peer kratos: running $loadgen -target kratos against it $*"
	local krc=0
	"$loadgen" -target kratos -url "http://127.0.0.1:$port" "$@" | tee "$tmp/kratos.out" || krc=$?
	kill "$kpid" 2>/dev/null || true
	wait "$kpid" 2>/dev/null || true
	say "$(awk -v s="$(throughput "$tmp/server.out")" -v b="$(throughput "$tmp/kratos.out")" \
		'BEGIN {printf "server create / Kratos create identity: %.1f / %.1f req/s = %.2f", s, b, (b > 0 ? s / b : 0)}')"
	return "$krc"
}

# throughput FILE: the req/s a loadgen report in FILE gives.
throughput() { awk '/^throughput:/ {print $2}' "$1"; }

if [ "${LOAD_COMPARE:-}" = 1 ] && [ "$rc" -eq 0 ]; then
	bounds=(gorm http-gorm)
	if [ -n "${LOAD_DATABASE_URL:-}" ]; then
		bounds+=(pgx http-pgx)
	fi
	# The peer: Stoplight Prism's mock of the X-Cart spec, which persists nothing.
	prism_port=${LOAD_PRISM_PORT:-18182}
	if prism_pid=$(PRISM_VERBOSE_LEVEL=warn .ci/prism/start.sh xcart mock "$prism_port"); then
		say "peer prism mock: running $loadgen against it $*"
		PROVISIOND_LOAD_KEY=$key "$loadgen" -url "http://127.0.0.1:$prism_port" "$@" | tee "$tmp/prism.out" || true
		kill "$prism_pid" 2>/dev/null || true
		say "$(awk -v s="$(throughput "$tmp/server.out")" -v b="$(throughput "$tmp/prism.out")" \
			'BEGIN {printf "server create / Prism mock create: %.1f / %.1f req/s = %.2f", s, b, (b > 0 ? s / b : 0)}')"
	else
		say "peer prism mock: could not start it (LOAD_PRISM_PORT=$prism_port)"
	fi
	if [ -n "${KRATOS_BIN:-}" ] && [ -n "${LOAD_DATABASE_URL:-}" ]; then
		kratos_peer "$@" || rc=1
	fi
	for b in "${bounds[@]}"; do
		# Each bound on a fresh SQLite file; on PostgreSQL in the load database, in the bounds' own
		# table, loadgen_bound, apart from the server's (every run inserts logins of its own).
		bound_db="$tmp/bound-$b.db"
		if [ -n "${LOAD_DATABASE_URL:-}" ]; then
			bound_db=$LOAD_DATABASE_URL
		fi
		say "bound $b: running $loadgen -bound $b $*"
		# The bound's pool is the server's: PROVISIOND_DB_MAX_CONNS, or loadgen's default (the server's).
		"$loadgen" -bound "$b" -db "$bound_db" ${PROVISIOND_DB_MAX_CONNS:+-conns "$PROVISIOND_DB_MAX_CONNS"} "$@" | tee "$tmp/bound-$b.out" || { rc=1; break; }
		say "$(awk -v s="$(throughput "$tmp/server.out")" -v b="$(throughput "$tmp/bound-$b.out")" -v n="$b" \
			'BEGIN {printf "server create / bare %s insert: %.1f / %.1f req/s = %.2f", n, s, b, s / b}')"
	done
	say "the server's create against its bounds (over HTTP: the floor that pays for HTTP as the server does):"
	for b in "${bounds[@]}"; do
		[ -s "$tmp/bound-$b.out" ] || continue
		say "$(awk -v s="$(throughput "$tmp/server.out")" -v b="$(throughput "$tmp/bound-$b.out")" -v n="$b" \
			'BEGIN {printf "  server / %-9s = %.2f", n, (b > 0 ? s / b : 0)}')"
	done
fi
exit "$rc"
