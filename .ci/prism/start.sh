#!/usr/bin/env bash
# start.sh API UPSTREAM PORT: starts Stoplight Prism (the version pinned in package.json) as a
# validating proxy for openapi/API.yaml in front of UPSTREAM (http://127.0.0.1:8080), listening on
# 127.0.0.1:PORT (UPSTREAM "mock": Prism's mock server instead, which answers every request with
# the spec's examples and persists nothing — the peer `make load`'s LOAD_COMPARE measures); waits until it accepts connections, then prints its process id on stdout and
# exits 0. Stop it with `kill PID` (SIGTERM). Exits non-zero, printing Prism's output on stderr,
# when Prism exits or does not listen within PRISM_START_TIMEOUT seconds (default 60).
#
# Options, chosen so that answers pass through and every answer can be checked by a machine:
#   --errors=false         never replace an answer: with --errors, Prism answers an invalid request
#                          itself (401/422, not forwarded) and turns a response violation into a 500
#   --cors=false           add no Access-Control-* headers to the answers
#   --multiprocess=false   one process (the default follows NODE_ENV=production), so PID is Prism
#   --validate-request     (the default) request violations are reported too, prefixed "request"
#
# The signal: every answer Prism passes on carries an `sl-violations` header when Prism found a
# violation, a JSON array of {"location":["request"|"response", ...],"severity":"Error"|"Warning",
# "code":..., "message":...}; no header means no violation. A response violation is an entry whose
# location starts with "response". A value longer than 8 KiB is cut and starts with
# "Too many violations! ". See README.md beside this file.
#
# Environment:
#   PRISM_LOG            a file to append one JSON line per answered request to (preload.cjs)
#   PRISM_OUT            a file for Prism's own console output (text); default prism.out in the
#                        temporary folder, which is removed once Prism has stopped
#   PRISM_PIDFILE        a file to write Prism's process id to, as well as stdout
#   PRISM_START_TIMEOUT  seconds to wait for Prism to listen (default 60)
#   PRISM_VERBOSE_LEVEL  Prism's console log level (default info; violations are warn and error)
#   PRISM_WATCH_PID      a process id (the test harness's own): Prism is stopped once it is gone,
#                        so a harness that dies without cleaning up leaves no proxy behind
set -euo pipefail

if [ "$#" -ne 3 ]; then
	echo "usage: $0 API UPSTREAM PORT   (e.g. $0 xcart http://127.0.0.1:8080 4010)" >&2
	exit 2
fi
api=$1 upstream=$2 port=$3

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
spec="$root/openapi/$api.yaml"
[ -f "$spec" ] || { echo "start.sh: no spec $spec" >&2; exit 2; }
case $port in '' | *[!0-9]*) echo "start.sh: PORT must be a number: $port" >&2; exit 2 ;; esac
command -v node >/dev/null || { echo "start.sh: node is not installed" >&2; exit 1; }

# Install the pinned Prism when the package files are newer than the last install; the lock lets
# several start.sh run at once (one per API).
installed="$here/node_modules/.installed"
(
	flock 9
	if [ ! -e "$installed" ] || [ "$here/package.json" -nt "$installed" ] || [ "$here/package-lock.json" -nt "$installed" ]; then
		npm ci --prefix "$here" --no-audit --no-fund >&2
		touch "$installed"
	fi
) 9>"$here/.install.lock"

# Prism reloads its document when the file changes (and refuses connections meanwhile), so it
# gets a copy: a spec edited during a test run does not restart the proxy halfway.
work=$(mktemp -d "${TMPDIR:-/tmp}/prism-$api.XXXXXX")
cp "$spec" "$work/$api.yaml"
out=${PRISM_OUT:-$work/prism.out}

[ -z "${PRISM_LOG:-}" ] || : >>"$PRISM_LOG"

# fail MESSAGE: reports, with Prism's output, and removes the temporary folder.
fail() {
	echo "start.sh: $1" >&2
	[ ! -s "$out" ] || cat "$out" >&2
	rm -rf "$work"
	exit 1
}

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	fail "something already listens on 127.0.0.1:$port"
fi

# exec: the process id of the background job is node's, so `kill PID` stops Prism itself.
# preload.cjs: SIGHUP is ignored (Prism outlives the session that started it; see PRISM_WATCH_PID)
# and, with PRISM_LOG, the JSON log is written.
mode=(proxy --validate-request=true "$work/$api.yaml" "$upstream")
[ "$upstream" != mock ] || mode=(mock "$work/$api.yaml") # a mock always validates requests
(
	exec node --require "$here/preload.cjs" "$here/node_modules/@stoplight/prism-cli/dist/index.js" "${mode[0]}" \
		--host 127.0.0.1 --port "$port" \
		--errors=false --cors=false --multiprocess=false \
		--verboseLevel "${PRISM_VERBOSE_LEVEL:-info}" \
		"${mode[@]:1}"
) </dev/null >>"$out" 2>&1 &
pid=$!

deadline=$((SECONDS + ${PRISM_START_TIMEOUT:-60}))
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
	if ! kill -0 "$pid" 2>/dev/null; then
		fail "prism for $api exited before listening on 127.0.0.1:$port; its output:"
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		kill "$pid" 2>/dev/null || true
		fail "prism for $api did not listen on 127.0.0.1:$port in ${PRISM_START_TIMEOUT:-60}s; its output:"
	fi
	sleep 0.1
done

# A watcher removes the temporary folder once Prism is gone, and stops Prism once PRISM_WATCH_PID
# is gone. Prism is recognised by its command line (which names the folder), never by its PID
# alone, which the system may give to another process once Prism has exited.
(
	prism_running() { tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$work/$api.yaml"; }
	while prism_running; do
		if [ -n "${PRISM_WATCH_PID:-}" ] && ! kill -0 "$PRISM_WATCH_PID" 2>/dev/null; then
			prism_running && kill "$pid" 2>/dev/null
		fi
		sleep 1
	done
	rm -rf "$work"
) </dev/null >/dev/null 2>&1 &
[ -z "${PRISM_PIDFILE:-}" ] || echo "$pid" >"$PRISM_PIDFILE"
echo "$pid"
