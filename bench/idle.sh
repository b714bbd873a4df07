#!/usr/bin/env bash
# Memory per idle proxied HTTP connection: HAProxy 2.6, vanilla Caddy (the
# same binary, reverse_proxy round_robin) and this plugin running the same
# haproxy.cfg. For each count, each proxy is started fresh, warmed with one
# request, then given <count> keep-alive client connections that have each
# had one answer and stay idle; the growth of the proxy's resident memory
# divided by the count is the cost of one idle connection.
#
# Usage: bench/idle.sh [count...]     (default: 5000 9000)
# Needs: haproxy (apt-get install -y haproxy). This machine allows 20,000
# open files per process, which bounds the counts.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(5000 9000)
command -v haproxy >/dev/null || { echo "bench/idle.sh: haproxy is missing (apt-get install -y haproxy)" >&2; exit 1; }

# shellcheck source=bench/lib.sh
source bench/lib.sh

echo "building…" >&2
go build -o "$work/caddy" ./cmd/caddy
go build -o "$work/origin" ./bench/origin
go build -o "$work/idleconns" ./bench/idleconns

o1=127.0.0.1:29201 o2=127.0.0.1:29202
"$work/origin" $o1 $o2 & pids+=($!)

cat >"$work/haproxy.cfg" <<EOF
global
    maxconn 9500
defaults
    mode http
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 300s
listen bench
    bind 127.0.0.1:28201
    balance roundrobin
    server o1 $o1
    server o2 $o2
EOF
cat >"$work/vanilla.json" <<EOF
{"admin": {"listen": "127.0.0.1:22201"},
 "apps": {"http": {"servers": {"bench": {"listen": ["127.0.0.1:28201"], "automatic_https": {"disable": true},
  "idle_timeout": "300s",
  "routes": [{"handle": [{"handler": "reverse_proxy",
   "upstreams": [{"dial": "$o1"}, {"dial": "$o2"}],
   "load_balancing": {"selection_policy": {"policy": "round_robin"}}}]}]}}}}}
EOF

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

wait_http() {
	for _ in $(seq 100); do
		curl -fs -o /dev/null "http://127.0.0.1:28201/small" && return 0
		sleep 0.1
	done
	echo "the proxy did not answer" >&2
	return 1
}

# measure <name> <count> <command…>: prints "name count bytes_per_conn".
measure() {
	local name=$1 count=$2
	shift 2
	"$@" >"$work/$name.log" 2>&1 &
	local pid=$!
	wait_http
	sleep 1
	local before
	before=$(rss_kib "$pid")
	rm -f "$work/fifo" && mkfifo "$work/fifo"
	"$work/idleconns" 127.0.0.1:28201 /small "$count" <"$work/fifo" >"$work/client.out" &
	local client=$!
	exec 3>"$work/fifo"
	for _ in $(seq 600); do
		grep -q ready "$work/client.out" 2>/dev/null && break
		kill -0 $client 2>/dev/null || { echo "the client failed: $(cat "$work/client.out")" >&2; exit 1; }
		sleep 0.1
	done
	sleep 2 # let the proxy settle
	# A Go process returns idle stack and heap only after collections.
	if [ -n "${admin:-}" ]; then
		for _ in 1 2 3; do curl -fs -o /dev/null "http://$admin/debug/pprof/heap?gc=1" || true; sleep 1; done
	fi
	local after
	after=$(rss_kib "$pid")
	exec 3>&-
	wait $client || true
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	echo "$name $count $(((after - before) * 1024 / count))"
}

results="$work/results"
: >"$results"
for n in "${counts[@]}"; do
	admin='' measure haproxy "$n" haproxy -dR -db -f "$work/haproxy.cfg" >>"$results"
	admin=127.0.0.1:22201 measure caddy "$n" "$work/caddy" run --config "$work/vanilla.json" >>"$results"
	admin=127.0.0.1:22202 CADDY_ADMIN=127.0.0.1:22202 measure plugin "$n" "$work/caddy" run --adapter haproxy --config "$work/haproxy.cfg" >>"$results"
done
awk '
{ b[$1, $2] = $3; if (!($2 in seen)) { seen[$2]; order[++k] = $2 } }
END {
	printf "%-8s %-8s %14s %12s\n", "conns", "target", "bytes/conn", "vs haproxy"
	for (i = 1; i <= k; i++) {
		n = order[i]
		split("haproxy caddy plugin", t, " ")
		for (j = 1; j <= 3; j++) printf "%-8s %-8s %14d %12.2f\n", n, t[j], b[t[j], n], b[t[j], n] / b["haproxy", n]
	}
}' "$results"
