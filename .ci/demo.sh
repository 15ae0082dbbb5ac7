#!/usr/bin/env bash
# `make demo`: serves provisiond (bin/provisiond, or PROVISIOND_BIN) on DEMO_ADDR (default
# 127.0.0.1:8080) over a fresh temporary SQLite database loaded with the example fixtures
# (internal/fixtures/example.yaml), and prints, for each API, its credential and a first call with
# curl that works as printed. Ctrl-C stops the server and removes the database.
#
#   DEMO_CHECK=1 .ci/demo.sh    run every printed call, fail on any that does not succeed, and stop
#                               (the end-to-end suite runs it so)
set -euo pipefail

cd "$(dirname "$0")/.."

bin=${PROVISIOND_BIN:-bin/provisiond}
addr=${DEMO_ADDR:-127.0.0.1:8080}
url="http://$addr"
[ -x "$bin" ] || { echo "demo: $bin is missing: run make build (make demo does)" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PROVISIOND_DATABASE_URL="$tmp/demo.db" PROVISIOND_FIXTURES=internal/fixtures/example.yaml \
	PROVISIOND_ADDR="$addr" PROVISIOND_LOG_FORMAT=text PROVISIOND_LOG_LEVEL=warn \
	"$bin" serve >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
	curl -sf "$url/readyz" >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/server.log" >&2; echo "demo: the server did not start" >&2; exit 1; }
	sleep 0.2
done
curl -sf "$url/readyz" >/dev/null || { cat "$tmp/server.log" >&2; echo "demo: the server is not ready" >&2; exit 1; }

# One block per API: a title, the credential, and the calls (each line a command, run as printed).
token='sed -E "s/.*\"access_token\":\"([^\"]+)\".*/\\1/"'
calls=(
"X-Cart profiles (xcart): API key ci-xcart-read-write-key-0001, sent as X-Auth-Token
curl -sf -X POST $url/api/profiles -H 'X-Auth-Token: ci-xcart-read-write-key-0001' -H 'Content-Type: application/json' -d '{\"login\": \"demo@shop.example\"}'"
"Oracle Commerce Cloud admin profiles (occadmin): application key ci-occadmin-application-key-0001
TOKEN=\$(curl -sf -X POST $url/ccadmin/v1/login -H 'Authorization: Bearer ci-occadmin-application-key-0001' -d grant_type=client_credentials | $token)
curl -sf $url/ccadmin/v1/adminProfiles -H \"Authorization: Bearer \$TOKEN\""
"Oracle Commerce Cloud store members (occstore): no key; Ada administers organization or-100001 (password ada-password)
TOKEN=\$(curl -sf -X POST $url/ccstore/v1/login -d 'grant_type=password&username=ada@acme.example&password=ada-password' | $token)
curl -sf $url/ccstore/v1/organizationMembers -H \"Authorization: Bearer \$TOKEN\" -H 'X-CCOrganization: or-100001'"
"platformOS users (platformos): API token ci-platformos-api-token-0001
curl -sf -X POST $url/api/users -H 'Authorization: Token token=ci-platformos-api-token-0001' -H 'Content-Type: application/json' -d '{\"form_configuration_name\": \"reference_rest_api_create_user\", \"form\": {\"email\": \"demo@example.com\", \"password\": \"demo-password\", \"first_name\": \"Demo\"}}'"
"ActivePlatform users (activeplatform): API token ci-activeplatform-api-token-0001, sent as api_token
curl -sf '$url/api/vendor/v1/users.json?api_token=ci-activeplatform-api-token-0001'"
"provisiond's control API (control): reset, seed, inspect, journal, faults; key ci-control-key-000000000001
curl -sf $url/_provisiond/v1/xcart/users -H 'Authorization: Bearer ci-control-key-000000000001'"
)

echo "provisiond demo: $url (database $tmp/demo.db, fixtures internal/fixtures/example.yaml)"
echo "Interactive reference: $url/docs"
failed=0
for block in "${calls[@]}"; do
	echo
	echo "# ${block%%$'\n'*}"
	commands=${block#*$'\n'}
	echo "$commands"
	if [ "${DEMO_CHECK:-}" = 1 ]; then
		if out=$(bash -euo pipefail -c "$commands" 2>&1); then
			echo "# → ${out:0:200}"
		else
			echo "# → FAILED: ${out:0:500}"
			failed=1
		fi
	fi
done
if [ "${DEMO_CHECK:-}" = 1 ]; then
	[ "$failed" = 0 ] && echo && echo "demo: every call succeeded"
	exit "$failed"
fi
echo
echo "Serving until Ctrl-C; the database goes with it."
wait "$pid"
