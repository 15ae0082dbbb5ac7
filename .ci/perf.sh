#!/usr/bin/env bash
# The performance report, run by `make perf` (which builds bin/provisiond, bin/loadgen and
# bin/rsspeak first): every ratio that the performance goals are stated in, measured side by side
# on this machine, then printed as one table with each goal and whether it is met.
#
#   - create on SQLite and on PostgreSQL (PERF_ROUNDS rounds each of `LOAD_COMPARE=1 .ci/load.sh
#     -c PERF_CONCURRENCY -d PERF_DURATION`): the server's create throughput over Stoplight
#     Prism's mock, over the database's bounds (bare GORM and pgx inserts, and the same behind a
#     bare HTTP handler), over Ory Kratos' admin create identity (with KRATOS_BIN), and its p99;
#   - the request path: BenchmarkCreateProfile bare / fake (the whole stack over an in-memory
#     store), and the password create over bare argon2id (BenchmarkPasswordCreateVsArgon2id,
#     with the memory limit that serve sets);
#   - peak RSS of the server under 512 concurrent password creates (bin/rsspeak);
#   - lists on PostgreSQL at each of PERF_LIST_ROWS rows: X-Cart's login search and OCC admin's
#     SCIM `email co`, each for a text that one row holds (BenchmarkListProfiles'
#     login-search-one, BenchmarkListAdminProfiles' email-co-one), as the largest size's time over
#     the smallest's.
# A figure is the median of its rounds, with their range. On a shared machine only the ratios
# mean something; nothing else may run meanwhile.
#
# Environment:
#   PERF_ROUNDS        rounds of each load run (default 3)
#   PERF_DURATION      duration of each load run (default 10s)
#   PERF_CONCURRENCY   load workers (default 64)
#   PERF_LIST_ROWS     table sizes of the list benchmarks (default 10000,100000,1000000)
#   PERF_SKIP          sections to leave out, comma-separated: sqlite, postgres, bench, rss, lists
#   KRATOS_BIN         an Ory Kratos binary, for the Kratos peer (see docs/development.md, Load test)
#   PGHOST, PGPORT, PGUSER   the PostgreSQL to create the fresh databases in (default
#                      127.0.0.1, 5432, postgres; trust authentication, as in CI)
# The exit status is 0 when every section ran, whether or not the goals are met.
set -euo pipefail

cd "$(dirname "$0")/.."

rounds=${PERF_ROUNDS:-3}
duration=${PERF_DURATION:-10s}
concurrency=${PERF_CONCURRENCY:-64}
list_rows=${PERF_LIST_ROWS:-10000,100000,1000000}
skip=",${PERF_SKIP:-},"
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
pg_base="postgres://$PGUSER@$PGHOST:$PGPORT"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/provisiond-perf.XXXXXX")
dbs=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local d
	for d in "${dbs[@]}"; do
		psql -q -d postgres -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

say() { printf 'perf: %s\n' "$*" >&2; }
wanted() { [[ $skip != *",$1,"* ]]; }

# load_rounds NAME [DATABASE]: PERF_ROUNDS runs of .ci/load.sh with LOAD_COMPARE=1, on a fresh
# SQLite database or, given DATABASE, on that PostgreSQL database created afresh for each run;
# records every "server create / PEER: … = RATIO" line as "NAME / PEER" and the server's p99 as
# "NAME p99 ms".
load_rounds() {
	local name=$1 db=${2:-} r out
	local env=(LOAD_COMPARE=1)
	if [ -n "$db" ]; then
		env+=(LOAD_DATABASE_URL="$pg_base/$db?sslmode=disable" ${KRATOS_BIN:+KRATOS_BIN="$KRATOS_BIN"})
	fi
	for r in $(seq "$rounds"); do
		out="$tmp/$name-$r.out"
		say "$name: round $r of $rounds"
		if [ -n "$db" ]; then
			psql -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
		fi
		env "${env[@]}" .ci/load.sh -c "$concurrency" -d "$duration" >"$out" 2>&1 ||
			{ say "$name: load run failed:"; tail -20 "$out" >&2; return 1; }
		awk -v n="$name" '
			/^load: server create \/ .*req\/s = / {
				peer = $0; sub(/^load: server create \/ /, "", peer); sub(/: [0-9.]+ \/ [0-9.]+ req\/s = .*$/, "", peer)
				print n " / " peer "\t" $NF
			}
			/^latency:/ && !seen { seen = 1; for (i = 1; i < NF; i++) if ($i == "p99") { v = $(i + 1); sub(/ms$/, "", v); if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print n " p99 ms\t" v } }
		' "$out" >>"$tmp/figures"
	done
}

# bench_values PACKAGE BENCH UNIT COUNT: COUNT runs of BENCH in PACKAGE, as lines "NAME\tVALUE"
# of the figure in UNIT of each.
bench_values() {
	go test -run '^$' -bench "$2" -count "$4" "$1" 2>&1 | tee -a "$tmp/bench.out" |
		awk -v u="$3" '/^Benchmark/ { for (i = 2; i < NF; i++) if ($(i + 1) == u) print $1 "\t" $i }'
}

if wanted sqlite; then
	load_rounds sqlite
fi

if wanted postgres; then
	dbs+=("perf_load_$$")
	load_rounds postgres "perf_load_$$"
fi

if wanted bench; then
	say "request path: BenchmarkCreateProfile bare and fake, 6 runs each"
	bench_values ./internal/xcart 'CreateProfile/(bare|fake)$' ns/op 6 >"$tmp/path"
	bare=$(awk -F'\t' '$1 ~ /\/bare-/ {print $2}' "$tmp/path" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	awk -F'\t' -v b="$bare" '$1 ~ /\/fake-/ {print "request path / bare Echo\t" b / $2}' "$tmp/path" >>"$tmp/figures"
	say "password: BenchmarkPasswordCreateVsArgon2id/memory-limit, $rounds runs"
	bench_values ./internal/xcart 'PasswordCreateVsArgon2id/memory-limit' create/bare "$rounds" |
		awk -F'\t' '{print "password create / bare argon2id\t" $2}' >>"$tmp/figures"
fi

if wanted rss; then
	for r in $(seq "$rounds"); do
		say "peak RSS: 512 password creates at once, round $r of $rounds"
		bin/rsspeak -bin bin/provisiond -n 512 PROVISIOND_PASSWORD_CONCURRENCY=2 >"$tmp/rss.out" 2>&1 ||
			{ tail -20 "$tmp/rss.out" >&2; exit 1; }
		awk '/peak VmHWM [0-9]+ kB/ { print "peak RSS MiB, 512 password creates\t" $(NF - 1) / 1024 }' "$tmp/rss.out" >>"$tmp/figures"
	done
fi

if wanted lists; then
	say "lists on PostgreSQL at $list_rows rows (seeding a million rows takes a few minutes)"
	db="perf_lists_$$"
	dbs+=("$db")
	psql -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
	# Searches that match one row at every size: their cost is the index's, not the result's.
	for spec in "./internal/xcart ListProfiles/postgres/.*/login-search-one X-Cart login search" \
		"./internal/occadmin ListAdminProfiles/postgres/.*/email-co-one OCC admin email co"; do
		read -r pkg bench label <<<"$spec"
		PROVISIOND_TEST_DATABASE_URL="$pg_base/$db?sslmode=disable" PROVISIOND_BENCH_ROWS=$list_rows \
			bench_values "$pkg" "$bench" ns/op 1 >"$tmp/list"
		awk -F'\t' -v l="$label" '{ split($1, p, "/"); ms = $2 / 1e6; printf "%s ms at %s rows\t%.2f\n", l, p[3], ms }' "$tmp/list" >>"$tmp/figures"
		awk -F'\t' -v l="$label" 'NR == 1 { first = $2 } { last = $2 } END { if (NR > 1) printf "%s, largest / smallest\t%.2f\n", l, last / first }' "$tmp/list" >>"$tmp/figures"
	done
fi

# The table: each row's median (min–max) over its rounds, and its goal (">= x" or "<= x").
goal() {
	case $1 in
	"sqlite / Prism mock create") echo ">= 3" ;;
	"sqlite / bare gorm insert") echo ">= 0.9" ;;
	"sqlite p99 ms") echo "<= 50" ;;
	"postgres / bare pgx insert") echo ">= 0.7" ;;
	"postgres p99 ms") echo "<= 30" ;;
	"postgres / Kratos create identity") echo ">= 10" ;;
	"request path / bare Echo") echo ">= 0.6" ;;
	"password create / bare argon2id") echo ">= 0.95" ;;
	"peak RSS MiB, 512 password creates") echo "<= 128" ;;
	*", largest / smallest") echo "<= 2" ;;
	*) echo "" ;;
	esac
}
printf '\n%-48s %-26s %-8s %s\n' "figure" "median (min-max), rounds" "goal" "met"
cut -f1 "$tmp/figures" | awk '!seen[$0]++' | while IFS= read -r row; do
	g=$(goal "$row")
	awk -F'\t' -v r="$row" -v g="$g" '
		$1 == r { v[++n] = $2 }
		END {
			# sort the values
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			met = ""
			if (g != "") { split(g, p, " "); met = (p[1] == ">=" ? m >= p[2] : m <= p[2]) ? "yes" : "NO" }
			printf "%-48s %-26s %-8s %s\n", r, sprintf("%.2f (%.2f-%.2f), %d", m, v[1], v[n], n), g, met
		}' "$tmp/figures"
done
