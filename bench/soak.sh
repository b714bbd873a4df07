#!/usr/bin/env bash
# Soak test of Caddy running a haproxy.cfg (not run in CI): N minutes of
# mixed traffic, HTTP keep-alive requests with wrk and new TCP connections
# through a mode tcp listen section with bench/tcpconnrate, while one HTTP
# and one TCP origin are stopped and started again (health checks take them
# out and back) and the config is reloaded through POST /load with other
# weights. Every 30 s it samples Caddy's RSS (/proc) and goroutine count
# (admin /debug/pprof/goroutine?debug=1), then prints the table, the traffic
# figures and a verdict: flat, or growing when the last samples are well
# above those after warm-up.
# Usage: bench/soak.sh [minutes, default 30]; RELOAD_EVERY=seconds (default
# 60) reloads more often, to measure what reloads cost the clients.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-30}
sample_every=30
flap_every=45
reload_every=${RELOAD_EVERY:-60}
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install -y wrk)" >&2; exit 1; }

# shellcheck source=bench/lib.sh
source bench/lib.sh
flap_pids=()
tcp_loop=
extra_cleanup() {
	# The TCP loop's current client first, then the flapping origins.
	[[ -n $tcp_loop ]] && pkill -P "$tcp_loop" 2>/dev/null || true
	for p in "${flap_pids[@]}"; do kill "$p" 2>/dev/null || true; done
}

go build -o "$work/caddy" ./cmd/caddy
go build -o "$work/origin" ./bench/origin
go build -o "$work/tcpconnrate" ./bench/tcpconnrate

web1=$(freeport); web2=$(freeport); tcp1=$(freeport); tcp2=$(freeport)
http_port=$(freeport); tcp_port=$(freeport); admin=$(freeport)
"$work/origin" "127.0.0.1:$web1" >"$work/origin1.log" 2>&1 & pids+=($!)
"$work/tcpconnrate" -serve "127.0.0.1:$tcp1" >"$work/tcporigin1.log" 2>&1 & pids+=($!)
start_flapping() {
	"$work/origin" "127.0.0.1:$web2" >"$work/origin2.log" 2>&1 & flap_pids=($!)
	"$work/tcpconnrate" -serve "127.0.0.1:$tcp2" >"$work/tcporigin2.log" 2>&1 & flap_pids+=($!)
}
stop_flapping() {
	for p in "${flap_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	flap_pids=()
}
start_flapping

config() { # weight of the flapping servers
	cat <<CFG
global
    maxconn 4000

defaults
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch

listen web
    mode http
    bind 127.0.0.1:$http_port
    balance roundrobin
    server w1 127.0.0.1:$web1 check inter 1s fall 2 rise 2
    server w2 127.0.0.1:$web2 check inter 1s fall 2 rise 2 weight $1

listen tcp
    mode tcp
    bind 127.0.0.1:$tcp_port
    balance roundrobin
    server t1 127.0.0.1:$tcp1 check inter 1s fall 2 rise 2
    server t2 127.0.0.1:$tcp2 check inter 1s fall 2 rise 2 weight $1
CFG
}
config 1 >"$work/haproxy.cfg"
HOME="$work" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" CADDY_ADMIN="127.0.0.1:$admin" \
	"$work/caddy" run --adapter haproxy --config "$work/haproxy.cfg" >"$work/caddy.log" 2>&1 & pids+=($!)
caddy_pid=$!
waitport "$http_port"; waitport "$tcp_port"

seconds=$((minutes * 60))
wrk -t1 -c16 -d"${seconds}s" "http://127.0.0.1:$http_port/small" >"$work/wrk.out" 2>&1 & pids+=($!)
wrk_pid=$!
# The TCP client runs in 30 s rounds so that its figures add up even if
# the soak is cut short.
(
	end=$((SECONDS + seconds))
	while ((SECONDS < end)); do
		left=$((end - SECONDS)); round=$((left < 30 ? left : 30))
		"$work/tcpconnrate" -addr "127.0.0.1:$tcp_port" -c 8 -d "${round}s"
	done >"$work/tcp.out" 2>&1
) & pids+=($!)
tcp_loop=$!

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$caddy_pid/status"; }
goroutines() {
	curl -s "http://127.0.0.1:$admin/debug/pprof/goroutine?debug=1" | sed -n 's/^goroutine profile: total //p'
}

printf '%6s %10s %10s %6s %6s\n' elapsed rss_kib goroutines flaps reloads | tee "$work/samples"
start=$SECONDS; flaps=0; reloads=0; reload_errors=0
next_sample=0; next_flap=$flap_every; next_reload=$reload_every
while (( SECONDS - start < seconds )); do
	now=$((SECONDS - start))
	if ((now >= next_flap)); then
		if ((${#flap_pids[@]})); then stop_flapping; else start_flapping; fi
		flaps=$((flaps + 1)); next_flap=$((next_flap + flap_every))
	fi
	if ((now >= next_reload)); then
		config $(( (reloads % 3) + 1 )) >"$work/next.cfg"
		if curl -sf -X POST -H 'Content-Type: text/haproxy' --data-binary @"$work/next.cfg" \
			"http://127.0.0.1:$admin/load" >/dev/null; then
			reloads=$((reloads + 1))
		else
			reload_errors=$((reload_errors + 1))
		fi
		next_reload=$((next_reload + reload_every))
	fi
	if ((now >= next_sample)); then
		printf '%6d %10d %10d %6d %6d\n' "$now" "$(rss_kb)" "$(goroutines)" "$flaps" "$reloads" | tee -a "$work/samples"
		next_sample=$((next_sample + sample_every))
	fi
	if ! kill -0 "$caddy_pid" 2>/dev/null; then
		echo "caddy exited:" >&2
		grep -m1 -A60 -E '^(panic|fatal error)' "$work/caddy.log" >&2 || tail -n 20 "$work/caddy.log" >&2
		exit 1
	fi
	sleep 1
done
wait "$wrk_pid" "$tcp_loop" || true
printf '%6d %10d %10d %6d %6d\n' "$((SECONDS - start))" "$(rss_kb)" "$(goroutines)" "$flaps" "$reloads" | tee -a "$work/samples"

echo
echo "HTTP (wrk, keep-alive):"
grep -E 'requests in|Non-2xx|Socket errors|Requests/sec' "$work/wrk.out" | sed 's/^/  /'
sed -n 's/.*(\([0-9]*\) ok, \([0-9]*\) failed)$/\1 \2/p' "$work/tcp.out" |
	awk '{ok += $1; failed += $2} END {printf "TCP (new connection each): %d ok, %d failed\n", ok, failed}'
echo "reloads: $reloads done, $reload_errors refused; health flaps: $flaps"

# Verdict: the last third of the samples against the samples after the
# first minute of warm-up; growing means 50% more RSS (and 8 MiB) or 50%
# more goroutines (and 50).
awk 'NR > 1 {t[n] = $1; r[n] = $2; g[n] = $3; n++}
END {
	first = 0; while (first < n - 1 && t[first] < 60) first++
	last = int(n * 2 / 3); if (last <= first) last = first
	for (i = first; i < n; i++) { if (i < last) { br += r[i]; bg += g[i]; bn++ } else { lr += r[i]; lg += g[i]; ln++ } }
	if (!bn || !ln) { print "verdict: too few samples"; exit }
	br /= bn; bg /= bn; lr /= ln; lg /= ln
	peak = 0; for (i = 0; i < n; i++) if (r[i] > peak) peak = r[i]
	printf "peak RSS %.1f MiB; RSS %.1f -> %.1f MiB, goroutines %.0f -> %.0f\n", peak / 1024, br / 1024, lr / 1024, bg, lg
	growing = (lr > br * 1.5 && lr - br > 8192) || (lg > bg * 1.5 && lg - bg > 50)
	print "verdict: " (growing ? "GROWING" : "flat")
}' "$work/samples"
