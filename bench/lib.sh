# Shared by the bench scripts (sourced, not run): a work directory removed
# at exit with every process the script started, Caddy's config and data
# directories inside it, and small helpers.
#
# After sourcing: $work is the directory; append the PID of every process
# started in the background to pids; define extra_cleanup to stop more.

work=$(mktemp -d)
export XDG_CONFIG_HOME=$work/xdg XDG_DATA_HOME=$work/xdg
pids=()
extra_cleanup() { :; }
cleanup() {
	extra_cleanup
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# need <command> <package>: stop with a hint when a command is missing.
need() {
	command -v "$1" >/dev/null || { echo "$(basename "$0"): $1 is missing (apt-get install -y $2)" >&2; exit 1; }
}

# freeport prints a free loopback TCP port.
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# waitport waits until something listens on the loopback port $1.
waitport() {
	for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return; sleep 0.1; done
	echo "nothing listens on $1" >&2
	tail -n 5 "$work"/*.log >&2
	exit 1
}

# cpu_ticks prints the CPU time process $1 has used, in clock ticks; tick_us
# is one tick in microseconds. CPU time per request holds on a machine
# shared with other work, where requests per second do not.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
tick_us=$((1000000 / $(getconf CLK_TCK)))

# interleave measures the targets in the arrays names, ports and procs
# with the caller's function "run <port> <pid>", which prints one result
# line: each once to warm up, then $rounds rounds of all in turn (A B C,
# A B C …), appending "<name> <result>" to the file $results.
interleave() {
	local i r
	for i in "${!names[@]}"; do run "${ports[$i]}" "${procs[$i]}" >/dev/null; done
	for r in $(seq "$rounds"); do
		for i in "${!names[@]}"; do
			echo "${names[$i]} $(run "${ports[$i]}" "${procs[$i]}")" >>"$results"
			echo "  round $r $(tail -1 "$results")" >&2
		done
	done
}

# awk_median is an awk function: median(arr, k) of arr[k, 1] … arr[k, n[k]].
awk_median='
function median(arr, k,   i, j, t, c, a) {
	c = n[k]; for (i = 1; i <= c; i++) a[i] = arr[k, i]
	for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}'
