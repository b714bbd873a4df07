#!/usr/bin/env bash
# Cost of the plugin's features: the same backend served by the plugin with
# a plain haproxy.cfg and with one feature added at a time (cookie
# insertion, 50 ACL routing rules, header rewriting both ways, a stats
# page), measured interleaved with wrk in one run. Prints the median
# requests/s of each and its ratio to the plain config, then the median CPU
# time per request and what the feature adds to it, which hold on a machine
# shared with other work, where requests/s do not.
#
# Each Caddy runs alone on CPU 1 (GOMAXPROCS=1); wrk and the origins share
# CPU 0.
#
# Usage: bench/features.sh [rounds] [seconds]     (default 5 rounds of 5 s)
# Needs: wrk (apt-get install -y wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
secs=${2:-5}
command -v wrk >/dev/null || { echo "bench/features.sh: wrk is missing (apt-get install -y wrk)" >&2; exit 1; }

# shellcheck source=bench/lib.sh
source bench/lib.sh

echo "building…" >&2
go build -o "$work/caddy" ./cmd/caddy
go build -o "$work/origin" ./bench/origin
o1=127.0.0.1:29301 o2=127.0.0.1:29302
taskset -c 0 "$work/origin" $o1 $o2 & pids+=($!)

# config <port> <frontend lines> <backend lines>
config() {
	cat <<EOF
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend bench
    bind 127.0.0.1:$1
$2
    default_backend app
backend app
    balance roundrobin
$3
    server o1 $o1 cookie o1
    server o2 $o2 cookie o2
backend other
    server o1 $o1
EOF
}

acls=""
for i in $(seq 50); do
	acls+="    acl r$i path_beg /route$i/"$'\n'"    use_backend other if r$i"$'\n'
done
rewrite="    http-request set-header X-Client %[src]
    http-request add-header X-Via bench
    http-request del-header X-Debug
    http-response set-header X-Served-By bench
    http-response del-header Server"
stats="    stats enable
    stats uri /haproxy-stats"

names=(plain cookie acl50 headers stats)
config 28301 "" "" >"$work/plain.cfg"
config 28302 "" "    cookie SERVERID insert indirect nocache" >"$work/cookie.cfg"
config 28303 "$acls" "" >"$work/acl50.cfg"
config 28304 "$rewrite" "" >"$work/headers.cfg"
config 28305 "$stats" "" >"$work/stats.cfg"
ports=(28301 28302 28303 28304 28305)
procs=()
for i in "${!names[@]}"; do
	CADDY_ADMIN=127.0.0.1:$((22301 + i)) GOMAXPROCS=1 taskset -c 1 \
		"$work/caddy" run --adapter haproxy --config "$work/${names[$i]}.cfg" >"$work/${names[$i]}.log" 2>&1 &
	pids+=($!)
	procs+=($!)
done
for port in "${ports[@]}"; do
	for _ in $(seq 100); do
		curl -fs -o /dev/null "http://127.0.0.1:$port/small" && break
		sleep 0.1
	done
	curl -fs -o /dev/null "http://127.0.0.1:$port/small" || { echo "nothing answers on port $port" >&2; tail "$work"/*.log >&2; exit 1; }
done

# run prints "rps cpu_us_per_request" for one wrk run against the Caddy
# whose process is pid $2.
run() {
	local before
	before=$(cpu_ticks "$2")
	taskset -c 0 wrk -t1 -c50 -d"${secs}s" "http://127.0.0.1:$1/small" 2>&1 | awk -v ticks="$before" -v pid="$2" -v tick_us="$tick_us" '
		/requests in/ { n = $1 }
		/Requests\/sec/ { rps = $2 }
		END {
			getline stat < ("/proc/" pid "/stat"); split(stat, f, " ")
			printf "%s %.1f\n", rps, (f[14] + f[15] - ticks) * tick_us / (n ? n : 1)
		}'
}
results="$work/results"
: >"$results"
interleave
awk '
{ n[$1]++; v[$1, n[$1]] = $2; u[$1, n[$1]] = $3; if (!($1 in seen)) { seen[$1]; order[++k] = $1 } }
'"$awk_median"'
END {
	printf "%-10s %10s %10s %10s %11s %10s\n", "config", "req/s", "vs plain", "cost", "cpu us/req", "cpu cost"
	p = median(v, "plain"); pc = median(u, "plain")
	for (i = 1; i <= k; i++) {
		m = median(v, order[i]); mc = median(u, order[i])
		printf "%-10s %10.0f %10.3f %9.1f%% %11.1f %9.1f%%\n", order[i], m, m / p, (1 - m / p) * 100, mc, (mc / pc - 1) * 100
	}
}' "$results"
