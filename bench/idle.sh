#!/usr/bin/env bash
# Memory per idle proxied connection, HTTP and TCP: HAProxy 2.6, vanilla
# Caddy (the same binary: reverse_proxy round_robin for HTTP, caddy-l4's
# proxy handler for TCP) and this plugin running the same haproxy.cfg. For
# each count, each proxy is started fresh, warmed with one request, then
# given <count> client connections that have each had one answer (an HTTP
# response on a keep-alive connection, or one byte echoed through mode tcp)
# and stay idle; the growth of the proxy's resident memory divided by the
# count is the cost of one idle connection.
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

o1=127.0.0.1:29201 o2=127.0.0.1:29202 echo=127.0.0.1:29203
"$work/origin" $o1 $o2 & pids+=($!)
"$work/idleconns" -serve $echo & pids+=($!)

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
cat >"$work/haproxy-tcp.cfg" <<EOF
global
    maxconn 9500
defaults
    mode tcp
    timeout connect 5s
    timeout client 300s
    timeout server 300s
listen bench
    bind 127.0.0.1:28202
    server e $echo
EOF
cat >"$work/vanilla-tcp.json" <<EOF
{"admin": {"listen": "127.0.0.1:22201"},
 "apps": {"layer4": {"servers": {"bench": {"listen": ["127.0.0.1:28202"],
  "routes": [{"handle": [{"handler": "proxy", "upstreams": [{"dial": ["$echo"]}]}]}]}}}}}
EOF

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# wait_ready waits until the proxy on port $1 answers: an HTTP request for
# path /small, one echoed byte for path -.
wait_ready() {
	for _ in $(seq 100); do
		if [ "$2" = - ]; then
			[ "$(python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),2); s.sendall(b"x"); print(s.recv(1).decode())' "$1" 2>/dev/null)" = x ] && return 0
		else
			curl -fs -o /dev/null "http://127.0.0.1:$1/small" && return 0
		fi
		sleep 0.1
	done
	echo "the proxy did not answer" >&2
	return 1
}

# measure <name> <count> <port> <path> <command…>: prints "name count
# bytes_per_conn".
measure() {
	local name=$1 count=$2 port=$3 path=$4
	shift 4
	"$@" >"$work/$name.log" 2>&1 &
	local pid=$!
	# measure runs in a subshell: a failure must not leave the proxy
	# holding the port for the next one.
	trap "kill $pid 2>/dev/null" EXIT
	wait_ready "$port" "$path"
	sleep 1
	local before
	before=$(rss_kib "$pid")
	rm -f "$work/fifo" && mkfifo "$work/fifo"
	"$work/idleconns" "127.0.0.1:$port" "$path" "$count" <"$work/fifo" >"$work/client.out" &
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
	for mode in http tcp; do
		if [ $mode = http ]; then port=28201 path=/small hcfg=$work/haproxy.cfg vcfg=$work/vanilla.json
		else port=28202 path=- hcfg=$work/haproxy-tcp.cfg vcfg=$work/vanilla-tcp.json; fi
		line=$(admin='' measure haproxy "$n" $port $path haproxy -dR -db -f "$hcfg") || exit 1
		echo "$mode $line" >>"$results"
		line=$(admin=127.0.0.1:22201 measure caddy "$n" $port $path "$work/caddy" run --config "$vcfg") || exit 1
		echo "$mode $line" >>"$results"
		line=$(admin=127.0.0.1:22202 CADDY_ADMIN=127.0.0.1:22202 measure plugin "$n" $port $path "$work/caddy" run --adapter haproxy --config "$hcfg") || exit 1
		echo "$mode $line" >>"$results"
	done
done
awk '
{ b[$1, $2, $3] = $4; if (!(($1, $3) in seen)) { seen[$1, $3]; order[++k] = $1 " " $3 } }
END {
	printf "%-6s %-8s %-8s %14s %12s\n", "mode", "conns", "target", "bytes/conn", "vs haproxy"
	for (i = 1; i <= k; i++) {
		split(order[i], mn, " ")
		split("haproxy caddy plugin", t, " ")
		for (j = 1; j <= 3; j++) printf "%-6s %-8s %-8s %14d %12.2f\n", mn[1], mn[2], t[j], b[mn[1], t[j], mn[2]], b[mn[1], t[j], mn[2]] / b[mn[1], "haproxy", mn[2]]
	}
}' "$results"
