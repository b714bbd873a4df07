#!/usr/bin/env bash
# HTTP benchmark: HAProxy 2.6 (one thread), vanilla Caddy (the same binary,
# reverse_proxy with its built-in round_robin), this plugin running the same
# haproxy.cfg as HAProxy, and a bare Go httputil.ReverseProxy, measured
# interleaved (A B C D, A B C D …) with wrk in one run. Prints the median
# requests/s and latency of each, and ratios to vanilla Caddy and HAProxy;
# then the proxy's CPU time per request and the same ratios by it (the
# other's CPU time per request over this one's: above 1 is cheaper), which
# hold on a machine shared with other work, where requests/s do not.
#
# Each proxy runs alone on CPU 1 (taskset; GOMAXPROCS=1, nbthread 1); wrk and
# the origins share CPU 0. On a 2-core machine the origins can cap the
# fastest proxy: compare ratios, not absolute figures.
#
# Usage: bench/http.sh [rounds] [seconds]      (default 5 rounds of 5 s)
# Needs: haproxy, wrk (apt-get install -y haproxy wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
secs=${2:-5}
for bin in haproxy wrk taskset; do
	command -v "$bin" >/dev/null || { echo "bench/http.sh: $bin is missing (apt-get install -y haproxy wrk)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
source bench/lib.sh

echo "building…" >&2
go build -o "$work/caddy" ./cmd/caddy
go build -o "$work/origin" ./bench/origin
go build -o "$work/goproxy" ./bench/goproxy

# Ports: origins 29101-29102, proxies 28101-28104, admin 22101-22102.
o1=127.0.0.1:29101 o2=127.0.0.1:29102
taskset -c 0 "$work/origin" $o1 $o2 & pids+=($!)

cat >"$work/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 9000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
listen bench
    bind 127.0.0.1:PORT
    balance roundrobin
    server o1 $o1
    server o2 $o2
EOF
sed s/PORT/28101/ "$work/haproxy.cfg" >"$work/haproxy-h.cfg"
sed -e s/PORT/28103/ -e '/nbthread/d' "$work/haproxy.cfg" >"$work/haproxy-p.cfg"
cat >"$work/vanilla.json" <<EOF
{"admin": {"listen": "127.0.0.1:22101"},
 "apps": {"http": {"servers": {"bench": {"listen": ["127.0.0.1:28102"], "automatic_https": {"disable": true},
  "routes": [{"handle": [{"handler": "reverse_proxy",
   "upstreams": [{"dial": "$o1"}, {"dial": "$o2"}],
   "load_balancing": {"selection_policy": {"policy": "round_robin"}}}]}]}}}}}
EOF

taskset -c 1 haproxy -dR -f "$work/haproxy-h.cfg" >"$work/haproxy.log" 2>&1 & pids+=($!)
GOMAXPROCS=1 taskset -c 1 "$work/caddy" run --config "$work/vanilla.json" >"$work/vanilla.log" 2>&1 & pids+=($!)
CADDY_ADMIN=127.0.0.1:22102 GOMAXPROCS=1 taskset -c 1 "$work/caddy" run --adapter haproxy --config "$work/haproxy-p.cfg" >"$work/plugin.log" 2>&1 & pids+=($!)
GOMAXPROCS=1 taskset -c 1 "$work/goproxy" 127.0.0.1:28104 $o1 $o2 >"$work/goproxy.log" 2>&1 & pids+=($!)
procs=("${pids[@]:1}")

names=(haproxy caddy plugin goproxy)
ports=(28101 28102 28103 28104)
for port in "${ports[@]}" 29101 29102; do
	for _ in $(seq 100); do
		curl -fs -o /dev/null "http://127.0.0.1:$port/small" && break
		sleep 0.1
	done
	curl -fs -o /dev/null "http://127.0.0.1:$port/small" || { echo "nothing answers on port $port" >&2; tail "$work"/*.log >&2; exit 1; }
done

# scenario name, wrk arguments after the URL's path
scenarios=(
	"keepalive-small|-c 50|/small"
	"keepalive-64k|-c 50|/64k"
	"new-conn-small|-c 50 -H Connection:close|/small"
)

# run prints "rps p50_ms p99_ms cpu_us_per_request" for one wrk run
# against the proxy whose process is pid. The CPU time per request does
# not depend on how much of the CPU the other users of the machine leave
# to the proxy, which its requests per second do.
run() {
	local port=$1 args=$2 path=$3 pid=$4 before
	before=$(cpu_ticks "$pid")
	# shellcheck disable=SC2086
	taskset -c 0 wrk -t1 $args -d"${secs}s" --latency "http://127.0.0.1:$port$path" 2>&1 | awk -v ticks="$before" -v pid="$pid" -v tick_us="$tick_us" '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
		/requests in/ { n = $1 }
		/Requests\/sec/ { rps = $2 }
		/^ +50%/ { p50 = ms($2) }
		/^ +99%/ { p99 = ms($2) }
		END {
			getline stat < ("/proc/" pid "/stat"); split(stat, f, " ")
			printf "%s %s %s %.1f\n", rps, p50, p99, (f[14] + f[15] - ticks) * tick_us / (n ? n : 1)
		}'
}

results="$work/results"
: >"$results"
for s in "${scenarios[@]}"; do
	IFS='|' read -r sname args path <<<"$s"
	# warm up each target once
	for i in "${!names[@]}"; do run "${ports[$i]}" "$args" "$path" "${procs[$i]}" >/dev/null; done
	for r in $(seq "$rounds"); do
		for i in "${!names[@]}"; do
			echo "$sname ${names[$i]} $(run "${ports[$i]}" "$args" "$path" "${procs[$i]}")" >>"$results"
			echo "  $sname round $r ${names[$i]}: $(tail -1 "$results" | cut -d' ' -f3)" >&2
		done
	done
done

awk -v names="${names[*]}" '
{ k = $1 SUBSEP $2; n[k]++; rps[k, n[k]] = $3; p50[k, n[k]] = $4; p99[k, n[k]] = $5; cpu[k, n[k]] = $6; if (!($1 in seen)) { seen[$1]; order[++ns] = $1 } }
'"$awk_median"'
END {
	split(names, nm, " ")
	printf "%-16s %-8s %10s %8s %8s %9s %9s %10s %9s %9s\n", "scenario", "target", "req/s", "p50 ms", "p99 ms", "vs caddy", "vs haprx", "cpu us/req", "cpu caddy", "cpu haprx"
	for (s = 1; s <= ns; s++) {
		sc = order[s]; h = median(rps, sc SUBSEP "haproxy"); c = median(rps, sc SUBSEP "caddy")
		hc = median(cpu, sc SUBSEP "haproxy"); cc = median(cpu, sc SUBSEP "caddy")
		for (i = 1; i <= length(nm); i++) {
			k = sc SUBSEP nm[i]; v = median(rps, k); u = median(cpu, k)
			printf "%-16s %-8s %10.0f %8.2f %8.2f %9.2f %9.2f %10.1f %9.2f %9.2f\n", sc, nm[i], v, median(p50, k), median(p99, k), v / c, v / h, u, cc / u, hc / u
		}
	}
}' "$results"
