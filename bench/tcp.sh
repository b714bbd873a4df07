#!/usr/bin/env bash
# Measures the layer4 "haproxy" handler against HAProxy 2.6 in mode tcp, in
# one run: bulk throughput with iperf3 and connection rate with
# bench/tcpconnrate, each directly to the origin, through HAProxy (default
# settings, and with "option splice-auto"), through Caddy's handler
# configured in JSON, and through Caddy running HAProxy's own config with
# the adapter (which adds the maxconn handler and the shared sockets of
# package handover); then prints the ratios ours/HAProxy. The targets take turns, round after
# round, and the medians are printed, so that load from other processes on
# the machine weighs on all of them alike.
# Usage: bench/tcp.sh [seconds per measurement, default 3] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
rounds=${2:-3}
command -v iperf3 >/dev/null || { echo "iperf3 is missing (apt-get install -y iperf3)" >&2; exit 1; }
command -v haproxy >/dev/null || { echo "haproxy is missing" >&2; exit 1; }

# shellcheck source=bench/lib.sh
source bench/lib.sh

go build -o "$work/caddy" ./cmd/caddy
go build -o "$work/tcpconnrate" ./bench/tcpconnrate

iperf_port=$(freeport); rate_port=$(freeport)
iperf3 -s -p "$iperf_port" >/dev/null 2>&1 & pids+=($!)
"$work/tcpconnrate" -serve "127.0.0.1:$rate_port" & pids+=($!)

# Each proxy has two frontends: one to iperf3, one to the rate origin.
hp_iperf=$(freeport); hp_rate=$(freeport); hs_iperf=$(freeport); hs_rate=$(freeport)
cp_iperf=$(freeport); cp_rate=$(freeport); admin=$(freeport)
ca_iperf=$(freeport); ca_rate=$(freeport); ca_admin=$(freeport)
haproxy_cfg() { # name iperf-port rate-port extra-option
	cat <<CFG
global
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  $4
listen iperf
  bind 127.0.0.1:$2
  server s1 127.0.0.1:$iperf_port
listen rate
  bind 127.0.0.1:$3
  server s1 127.0.0.1:$rate_port
CFG
}
haproxy_cfg default "$hp_iperf" "$hp_rate" "" >"$work/haproxy.cfg"
haproxy_cfg splice "$hs_iperf" "$hs_rate" "option splice-auto" >"$work/haproxy-splice.cfg"
haproxy_cfg adapter "$ca_iperf" "$ca_rate" "" >"$work/haproxy-adapter.cfg"
declare -A pid
haproxy -f "$work/haproxy.cfg" -db -dR >"$work/haproxy.log" 2>&1 & pids+=($!); pid[haproxy]=$!
haproxy -f "$work/haproxy-splice.cfg" -db -dR >"$work/haproxy-splice.log" 2>&1 & pids+=($!); pid[haproxy-splice]=$!

server() { # listen-port dial-port
	echo '{"listen":["127.0.0.1:'"$1"'"],"routes":[{"handle":[{"handler":"haproxy","frontend":"fe'"$1"'","connect_timeout":"5s","client_timeout":"30s","server_timeout":"30s","backend":{"backend":"be'"$1"'","servers":[{"name":"s1","dial":"127.0.0.1:'"$2"'"}]}}]}]}'
}
cat >"$work/caddy.json" <<JSON
{"admin":{"listen":"127.0.0.1:$admin"},"logging":{"logs":{"default":{"level":"WARN"}}},
 "apps":{"layer4":{"servers":{"iperf":$(server "$cp_iperf" "$iperf_port"),"rate":$(server "$cp_rate" "$rate_port")}}}}
JSON
HOME="$work" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" \
	"$work/caddy" run --config "$work/caddy.json" >"$work/caddy.log" 2>&1 & pids+=($!); pid[caddy]=$!
CADDY_ADMIN=127.0.0.1:$ca_admin HOME="$work" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" \
	"$work/caddy" run --adapter haproxy --config "$work/haproxy-adapter.cfg" >"$work/caddy-adapter.log" 2>&1 & pids+=($!); pid[caddy-adapter]=$!
for p in "$iperf_port" "$rate_port" "$hp_iperf" "$hp_rate" "$hs_iperf" "$hs_rate" "$cp_iperf" "$cp_rate" "$ca_iperf" "$ca_rate"; do waitport "$p"; done

gbps() { # port -> Gbit/s received
	iperf3 -c 127.0.0.1 -p "$1" -t "$secs" -J |
		python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
}
# cputicks pid: user+system clock ticks the process has used.
cputicks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# rate port [proxy-pid]: prints conn/s, and adds the proxy's CPU
# microseconds per connection of this run to the file $work/cpu.
rate() {
	local before out
	[ -n "${2:-}" ] && before=$(cputicks "$2")
	out=$("$work/tcpconnrate" -addr "127.0.0.1:$1" -c 32 -d "${secs}s")
	if [ -n "${2:-}" ]; then
		echo "$out" | awk -v t="$(( $(cputicks "$2") - before ))" -v hz="$(getconf CLK_TCK)" \
			'{n=$3; gsub(/[(]/, "", n); printf " %.0f", t*1e6/hz/n}' >"$work/cpu"
	else
		echo " 0" >"$work/cpu"
	fi
	echo "$out" | awk '{print $1}'
}

targets=(direct haproxy haproxy-splice caddy caddy-adapter)
declare -A tput conns cpu
for round in $(seq "$rounds"); do
	for target in "${targets[@]}"; do
		case $target in
		direct) ip=$iperf_port; rp=$rate_port ;;
		haproxy) ip=$hp_iperf; rp=$hp_rate ;;
		haproxy-splice) ip=$hs_iperf; rp=$hs_rate ;;
		caddy) ip=$cp_iperf; rp=$cp_rate ;;
		caddy-adapter) ip=$ca_iperf; rp=$ca_rate ;;
		esac
		tput[$target]+=" $(gbps "$ip")"
		conns[$target]+=" $(rate "$rp" "${pid[$target]:-}")"
		cpu[$target]+=$(cat "$work/cpu")
	done
done
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' $1; }
declare -A mt mc mu
for target in "${targets[@]}"; do
	mt[$target]=$(median "${tput[$target]}")
	mc[$target]=$(median "${conns[$target]}")
	mu[$target]=$(median "${cpu[$target]}")
done

printf '%-16s %22s %14s %12s   (%d rounds of %ss; all: Gb/s | conn/s | proxy CPU us/conn)\n' \
	target "throughput (median)" "conn/s" "CPU us/conn" "$rounds" "$secs"
for target in "${targets[@]}"; do
	printf '%-16s %17.2f Gb/s %14.0f %12.0f   |%s |%s |%s\n' "$target" "${mt[$target]}" "${mc[$target]}" "${mu[$target]}" \
		"${tput[$target]}" "${conns[$target]}" "${cpu[$target]}"
done
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
# compare name ours theirs: throughput and rate ratios ours/theirs, and
# theirs/ours for CPU per connection (higher is better for all three).
compare() {
	printf '%-21s throughput %sx  conn/s %sx  CPU per connection %sx\n' "$1:" "$(ratio "${mt[$2]}" "${mt[$3]}")" \
		"$(ratio "${mc[$2]}" "${mc[$3]}")" "$(ratio "${mu[$3]}" "${mu[$2]}")"
}
compare ours/haproxy caddy haproxy
compare ours/haproxy-splice caddy haproxy-splice
compare adapter/haproxy caddy-adapter haproxy
