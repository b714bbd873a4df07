#!/usr/bin/env bash
# HTTP/2 to the client: HAProxy 2.6 (one thread), vanilla Caddy (the same
# binary, reverse_proxy with its built-in round_robin) and this plugin on
# the same haproxy.cfg, each terminating TLS with ALPN h2 and proxying to
# HTTP/1.1 origins, measured interleaved with h2load (50 connections, 10
# concurrent streams each). Prints the median requests/s and the proxy's
# CPU time per request, and the ratios of both to vanilla Caddy and HAProxy
# (for CPU: the other's CPU time per request over this one's, above 1 is
# cheaper), as bench/http.sh does for HTTP/1.1.
#
# Usage: bench/h2.sh [rounds] [seconds]      (default 5 rounds of 5 s)
# Needs: haproxy, h2load, openssl (apt-get install -y haproxy nghttp2-client openssl).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
secs=${2:-5}

# shellcheck source=bench/lib.sh
source bench/lib.sh
need haproxy haproxy
need h2load nghttp2-client
need openssl openssl

echo "building…" >&2
go build -o "$work/caddy" ./cmd/caddy
go build -o "$work/origin" ./bench/origin

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" >"$work/bundle.pem"

o1=127.0.0.1:$(freeport) o2=127.0.0.1:$(freeport)
taskset -c 0 "$work/origin" "$o1" "$o2" >"$work/origin.log" 2>&1 & pids+=($!)
hp=$(freeport) cp=$(freeport) pp=$(freeport) admin=$(freeport)

haproxy_cfg() { # port [nbthread line]
	cat <<EOF
global
    $2
    maxconn 9000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
listen bench
    bind 127.0.0.1:$1 ssl crt $work/bundle.pem alpn h2,http/1.1
    balance roundrobin
    server o1 $o1
    server o2 $o2
EOF
}
haproxy_cfg "$hp" "nbthread 1" >"$work/haproxy.cfg"
haproxy_cfg "$pp" "" >"$work/plugin.cfg"
cat >"$work/vanilla.json" <<EOF
{"admin": {"listen": "127.0.0.1:$admin"},
 "apps": {
  "tls": {"certificates": {"load_files": [{"certificate": "$work/cert.pem", "key": "$work/key.pem"}]}},
  "http": {"servers": {"bench": {"listen": ["127.0.0.1:$cp"], "automatic_https": {"disable": true},
   "tls_connection_policies": [{"default_sni": "localhost"}],
   "routes": [{"handle": [{"handler": "reverse_proxy",
    "upstreams": [{"dial": "$o1"}, {"dial": "$o2"}],
    "load_balancing": {"selection_policy": {"policy": "round_robin"}}}]}]}}}}}
EOF

taskset -c 1 haproxy -dR -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 & pids+=($!)
GOMAXPROCS=1 taskset -c 1 "$work/caddy" run --config "$work/vanilla.json" >"$work/vanilla.log" 2>&1 & pids+=($!)
CADDY_ADMIN=127.0.0.1:$(freeport) GOMAXPROCS=1 taskset -c 1 "$work/caddy" run --adapter haproxy --config "$work/plugin.cfg" >"$work/plugin.log" 2>&1 & pids+=($!)
procs=("${pids[@]:1}")
names=(haproxy caddy plugin)
ports=("$hp" "$cp" "$pp")
for port in "${ports[@]}"; do
	for _ in $(seq 100); do
		curl -kfs -o /dev/null "https://127.0.0.1:$port/small" && break
		sleep 0.1
	done
	curl -kfs --http2 -o /dev/null "https://127.0.0.1:$port/small" || { echo "nothing answers on port $port" >&2; tail "$work"/*.log >&2; exit 1; }
done

# run prints "rps cpu_us_per_request" for one h2load run against the
# proxy whose process is pid; every request must succeed.
run() {
	local port=$1 pid=$2 before out
	before=$(cpu_ticks "$pid")
	out=$(taskset -c 0 h2load -t1 -c50 -m10 -D"$secs" "https://127.0.0.1:$port/small" 2>&1)
	local ticks=$(($(cpu_ticks "$pid") - before))
	awk -v ticks="$ticks" -v tick_us="$tick_us" '
		/^finished in/ { rps = $4 }
		/^requests:/ { done = $8; failed = $10 + $12 + $14 }
		/^status codes:/ { bad = $5 + $7 + $9 }
		END {
			if (failed || bad || !done) { print "h2load: a request failed or was not answered 2xx" > "/dev/stderr"; exit 1 }
			printf "%s %.1f\n", rps, ticks * tick_us / (done ? done : 1)
		}' <<<"$out"
}

results="$work/results"
: >"$results"
interleave

awk -v names="${names[*]}" '
{ n[$1]++; rps[$1, n[$1]] = $2; cpu[$1, n[$1]] = $3 }
'"$awk_median"'
END {
	split(names, nm, " ")
	h = median(rps, "haproxy"); c = median(rps, "caddy"); hc = median(cpu, "haproxy"); cc = median(cpu, "caddy")
	printf "%-16s %-8s %10s %9s %9s %10s %9s %9s\n", "scenario", "target", "req/s", "vs caddy", "vs haprx", "cpu us/req", "cpu caddy", "cpu haprx"
	for (i = 1; i <= length(nm); i++) {
		v = median(rps, nm[i]); u = median(cpu, nm[i])
		printf "%-16s %-8s %10.0f %9.2f %9.2f %10.1f %9.2f %9.2f\n", "h2-tls-small", nm[i], v, v / c, v / h, u, cc / u, hc / u
	}
}' "$results"
