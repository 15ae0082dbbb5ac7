# shellcheck shell=bash
# One provisiond in the background, for the scripts that drive a running server (.ci/load.sh,
# .ci/typescript/check.sh). Source it after setting:
#   server   the provisiond binary
#   log      the file the server logs into
# and defining say (prints one line of the caller's). It sets pid while the server runs.
# The environment of server_start's caller reaches the server (PROVISIOND_DATABASE_URL, …).
# shellcheck disable=SC2154 # server and log are the caller's

pid=

# server_start ADDR TIMEOUT [NAME=VALUE...]: starts `$server serve` on ADDR with the extra
# settings and waits up to TIMEOUT seconds for /readyz (`provisiond healthcheck`). It fails when
# the server exits first (another process may hold the address) or is not ready in time.
server_start() {
	local addr=$1 timeout=$2
	shift 2
	env PROVISIOND_ADDR="$addr" "$@" "$server" serve >"$log" 2>&1 &
	pid=$!
	local t0
	t0=$(date +%s)
	until PROVISIOND_ADDR=$addr "$server" healthcheck --timeout 1s >/dev/null 2>&1; do
		if ! kill -0 "$pid" 2>/dev/null; then
			local rc=0
			wait "$pid" || rc=$?
			pid=
			say "the server on $addr exited with status $rc before it was ready"
			return 1
		fi
		if [ $(($(date +%s) - t0)) -ge "$timeout" ]; then
			say "the server on $addr was not ready after ${timeout}s"
			return 1
		fi
		sleep 0.1
	done
}

# server_stop sends SIGTERM and waits; its status is the server's exit status.
server_stop() {
	local rc=0
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" || rc=$?
		pid=
	fi
	return "$rc"
}

# server_show_log prints the last lines of the server's log.
server_show_log() {
	say "last lines of the server log ($log):"
	tail -n 40 "$log" 2>/dev/null | sed 's/^/    /' || true
}
