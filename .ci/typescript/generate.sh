#!/usr/bin/env bash
# Generates the TypeScript types of every API from its spec with the pinned openapi-typescript:
# openapi/<api>.yaml -> gen/<api>/<api>.d.ts (next to the Go code oapi-codegen generates there).
# Runs from any directory. Installs the pinned packages of .ci/typescript first (npm ci) when
# node_modules is missing or older than package.json or package-lock.json.
#
#   .ci/typescript/generate.sh
#
# The output depends only on the specs and the pinned versions (no timestamps, no paths), so
# running it twice gives identical files, and CI can regenerate and fail on any diff.
#
# --default-non-nullable false: openapi-typescript 7 otherwise makes every property that has a
# `default` required, in request bodies too (X-Cart's ProfileCreate would then require
# access_level, status and force_change_password, and OCC's AdminProfileCreate active), although
# the specs make them optional and the server fills in the default.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

# Every API with a spec in openapi/ (each also has gen/<api>/ and src/<api>.ts).
APIS=()
for spec in openapi/*.yaml; do
	APIS+=("$(basename "$spec" .yaml)")
done

# install: npm ci of the pinned packages, again only when package.json or package-lock.json is newer
# than the last install (node_modules/.installed). Shared with check.sh, which sources this file.
install() {
	local marker="$here/node_modules/.installed"
	if [ ! -e "$marker" ] || [ "$here/package-lock.json" -nt "$marker" ] || [ "$here/package.json" -nt "$marker" ]; then
		npm ci --prefix "$here" --no-audit --no-fund
		touch "$marker"
	fi
}

generate() {
	local api out
	for api in "${APIS[@]}"; do
		out="gen/$api/$api.d.ts"
		"$here/node_modules/.bin/openapi-typescript" "openapi/$api.yaml" \
			--default-non-nullable false \
			--output "$out" >/dev/null
		echo "generated $out from openapi/$api.yaml"
	done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	install
	generate
fi
