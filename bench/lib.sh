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
