#!/usr/bin/env bash
# Compares the haproxy selection policy with Caddy's built-in policy for the
# same job (roundrobin ~ weighted_round_robin, leastconn ~ least_conn,
# source ~ ip_hash, uri ~ uri_hash) at 3, 100 and 1,000 servers, in one run,
# and prints the median ns/op of each and the ratio haproxy/caddy.
# Usage: bench/policies.sh [count]   (default 5 runs of each benchmark)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5}
go test -run '^$' -bench 'BenchmarkVsCaddy' -count "$count" ./lbmodule/ |
awk '
/^BenchmarkVsCaddy\// {
	split($1, p, "/"); sub(/-[0-9]+$/, "", p[4])
	key = p[2] "/" p[3]; impl = p[4]
	n[key, impl]++; v[key, impl, n[key, impl]] = $3; allocs[key, impl] = $7
	if (!(key in seen)) { seen[key] = 1; order[++k] = key }
}
function median(key, impl,   i, j, t, c, a) {
	c = n[key, impl]
	for (i = 1; i <= c; i++) a[i] = v[key, impl, i]
	for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}
END {
	printf "%-18s %14s %14s %8s %14s\n", "algorithm/servers", "haproxy ns/op", "caddy ns/op", "ratio", "allocs h/c"
	for (i = 1; i <= k; i++) {
		key = order[i]; h = median(key, "haproxy"); c = median(key, "caddy")
		printf "%-18s %14.0f %14.0f %8.2f %9s/%s\n", key, h, c, h / c, allocs[key, "haproxy"], allocs[key, "caddy"]
	}
}'
