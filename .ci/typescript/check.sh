#!/usr/bin/env bash
# Proves the TypeScript SDKs generated from openapi/*.yaml against a running server: installs the
# pinned packages of .ci/typescript (npm ci, when node_modules is missing or older than the
# lockfile), regenerates gen/<api>/<api>.d.ts (generate.sh), type-checks the programs of src/ with
# `tsc --strict --noEmit`, compiles them to dist/, then starts provisiond on a fresh temporary
# SQLite database and a free port on 127.0.0.1 and runs one program per API against it
# (src/<api>.ts: log in, create, read back, check). Runs from any directory.
#
#   .ci/typescript/check.sh
#
# Environment:
#   PROVISIOND_BIN          the server binary (default: built into the temporary directory with
#                           CGO_ENABLED=0 go build -trimpath ./cmd/provisiond)
#   CHECK_READY_TIMEOUT     seconds to wait for /readyz (default 60)
#   CHECK_PROGRAM_TIMEOUT   seconds one program may take (default 120)
#
# Every API that takes stored credentials (the server lists them in `credentials create --help`)
# gets a new one from `provisiond credentials create`, passed to its program as
# PROVISIOND_<API>_KEY (PROVISIOND_XCART_KEY, …); the OCC store's organization and administrator
# come from fixtures.yaml; it runs with PROVISIOND_VALIDATE_RESPONSES=true
# and logs (text) into the temporary directory, whose last lines are shown when something fails.
# Every program runs even when an earlier one failed; the exit status is non-zero if any step
# failed, the server logged an error, or it did not stop cleanly. The temporary directory and the
# server are removed and stopped on exit, whatever happens.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

# shellcheck source=generate.sh
source "$here/generate.sh" # install, generate, APIS; runs nothing when sourced

ready_timeout=${CHECK_READY_TIMEOUT:-60}
program_timeout=${CHECK_PROGRAM_TIMEOUT:-120}

# The OCC store administrator of fixtures.yaml, who logs in to POST /ccstore/v1/login.
OCCSTORE_ORGANIZATION=or-ts-0001
OCCSTORE_USERNAME=ts-admin@sdk.example
OCCSTORE_PASSWORD=ts-admin-password

started=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/provisiond-ts.XXXXXX")
log="$tmp/server.log"
failed=()

say() { printf 'typescript: %s\n' "$*"; }
since() { echo "$(($(date +%s) - $1))s"; }

# shellcheck source=../server.sh
source "$root/.ci/server.sh"

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	server_stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for t in node npm; do
	command -v "$t" >/dev/null || { say "missing tool: $t"; exit 2; }
done

t0=$(date +%s)
install
say "packages installed ($(since "$t0"))"

t0=$(date +%s)
before=$(cat gen/*/*.d.ts 2>/dev/null | cksum || true)
generate | sed 's/^/typescript: /'
if [ "$before" != "$(cat gen/*/*.d.ts | cksum)" ]; then
	say "note: regenerating changed gen/*/*.d.ts; commit them with the spec change"
fi
say "types generated ($(since "$t0"))"

t0=$(date +%s)
"$here/node_modules/.bin/tsc" --strict --noEmit -p "$here"
say "tsc --strict --noEmit: ok ($(since "$t0"))"

t0=$(date +%s)
rm -rf "$here/dist"
# --noCheck: the types were checked just above; this only writes the JavaScript.
"$here/node_modules/.bin/tsc" -p "$here" --noCheck
say "programs compiled into .ci/typescript/dist ($(since "$t0"))"

if [ -n "${PROVISIOND_BIN:-}" ]; then
	server=$PROVISIOND_BIN
	[ -x "$server" ] || { say "PROVISIOND_BIN=$server is not an executable"; exit 2; }
else
	t0=$(date +%s)
	server="$tmp/provisiond"
	CGO_ENABLED=0 go build -trimpath -o "$server" ./cmd/provisiond
	say "server built ($(since "$t0"))"
fi

# The server's settings: a fresh database, no fixtures of the caller's environment at start.
export PROVISIOND_DATABASE_URL="$tmp/db.sqlite"
export PROVISIOND_LOG_FORMAT=text
export PROVISIOND_FIXTURES=

# credential API: a new read/write credential of API. `credentials create` applies the migrations
# first and prints only the secret on stdout.
credential() {
	local secret
	secret=$("$server" credentials create --api "$1" 2>>"$tmp/setup.log") || { cat "$tmp/setup.log" >&2; return 1; }
	[ -n "$secret" ] || { say "credentials create --api $1 printed no secret" >&2; return 1; }
	echo "$secret"
}

# keyed: the APIs that take stored credentials, as the server itself lists them (internal/app's
# modules), so that a new API needs no line here.
keyed() {
	"$server" credentials create --help 2>&1 | sed -n 's/^APIs: //p' | tr -d ','
}

t0=$(date +%s)
keys=()
read -r -a apis_keyed <<<"$(keyed)"
[ "${#apis_keyed[@]}" -gt 0 ] || { say "credentials create --help lists no API"; exit 1; }
for api in "${apis_keyed[@]}"; do
	keys+=("PROVISIOND_${api^^}_KEY=$(credential "$api")")
done
"$server" fixtures load "$here/fixtures.yaml" >>"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; exit 1; }
say "database $PROVISIOND_DATABASE_URL: credentials created, fixtures.yaml loaded ($(since "$t0"))"

free_port() {
	node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { process.stdout.write(String(s.address().port)); s.close(); });'
}

t0=$(date +%s)
ready=false
for attempt in 1 2 3; do
	# Another process may take the free port before the server does: try another.
	addr="127.0.0.1:$(free_port)"
	if server_start "$addr" "$ready_timeout" PROVISIOND_VALIDATE_RESPONSES=true; then
		ready=true
		break
	fi
	server_show_log
	server_stop || true
	say "start attempt $attempt failed"
done
$ready || exit 1
say "server ready on $addr ($(since "$t0"))"

export PROVISIOND_URL="http://$addr"
export "${keys[@]}"
# The OCC store takes no key: its program logs in as a member, which is per-API knowledge.
export PROVISIOND_OCCSTORE_USERNAME=$OCCSTORE_USERNAME
export PROVISIOND_OCCSTORE_PASSWORD=$OCCSTORE_PASSWORD
export PROVISIOND_OCCSTORE_ORGANIZATION=$OCCSTORE_ORGANIZATION

passed=0
for api in "${APIS[@]}"; do
	rc=0
	timeout "$program_timeout" node "$here/dist/$api.js" || rc=$?
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
	else
		say "$api: program exited with status $rc"
		failed+=("$api")
	fi
done

server_rc=0
server_stop || server_rc=$?
if [ "$server_rc" -ne 0 ]; then
	say "the server stopped with status $server_rc"
	failed+=("server exit")
fi
# Errors include each "response violates the spec" of PROVISIOND_VALIDATE_RESPONSES.
if grep -q 'level=ERROR' "$log"; then
	say "the server logged errors:"
	grep 'level=ERROR' "$log" | sed 's/^/    /'
	failed+=("server log")
fi
if [ "${#failed[@]}" -gt 0 ]; then
	server_show_log
fi

say "took $(since "$started") in all"
echo "typescript: $passed passed, $((${#APIS[@]} - passed)) failed"
if [ "${#failed[@]}" -gt 0 ]; then
	say "FAILED: ${failed[*]}"
	exit 1
fi
