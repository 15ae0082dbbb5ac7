#!/usr/bin/env bash
# `make test` and `make test-all`: every test (go test ./...), on SQLite, and on PostgreSQL too when
# PROVISIOND_TEST_DATABASE_URL is set; then one NOTICE line for each gap, a part of the suite that
# could not run on this machine (no PostgreSQL configured, no chromium, …), saying how to run it.
#
#   .ci/test.sh            make test: gaps are noticed, not failures
#   .ci/test.sh --strict   make test-all (CI): every gap fails the test that meets it, and the run
set -uo pipefail

cd "$(dirname "$0")/.."

strict=0
[ "${1:-}" = "--strict" ] && strict=1

gaps=$(mktemp -d)
trap 'rm -rf "$gaps"' EXIT

echo "${GO:-go} test -count=1 ./..."
PROVISIOND_TEST_GAPS=$gaps PROVISIOND_TEST_STRICT=$strict "${GO:-go}" test -count=1 ./...
status=$?

notices=$(cat "$gaps"/* 2>/dev/null | sort -u)
if [ -n "$notices" ]; then
	echo
	while IFS= read -r notice; do
		echo "NOTICE: $notice"
	done <<<"$notices"
	if [ "$strict" = 1 ]; then
		echo "make test-all: the suite has gaps on this machine (see above)"
		status=1
	fi
elif [ "$status" = 0 ]; then
	echo "every test ran: no gap"
fi
exit "$status"
