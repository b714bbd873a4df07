package runtimeapi

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// started is when the process started serving, for Uptime.
var started = time.Now()

// infoMaxConn is the newest configuration's App.MaxConn.
var infoMaxConn atomic.Int64

// showInfo writes "show info" with HAProxy's keys in HAProxy's order.
// Name and Version say Caddy; what Caddy has no counterpart for is 0.
func showInfo(_ *session, _ []string, w *strings.Builder) {
	var cur, cum int64
	for _, b := range lbmodule.Backends() {
		cur += b.Counters().Current.Load()
		cum += b.Counters().Sessions.Load()
	}
	var lim syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	maxConn := infoMaxConn.Load()
	if maxConn == 0 {
		maxConn = int64(lim.Cur)
	}
	up := time.Since(started)
	secs := int64(up / time.Second)
	host, _ := os.Hostname()
	version, _ := caddy.Version()
	fields := []struct {
		key string
		val any
	}{
		{"Name", "Caddy"},
		{"Version", version},
		{"Release_date", "-"},
		{"Nbthread", runtime.GOMAXPROCS(0)},
		{"Nbproc", 1},
		{"Process_num", 1},
		{"Pid", os.Getpid()},
		{"Uptime", fmt.Sprintf("%dd %dh%02dm%02ds", secs/86400, secs/3600%24, secs/60%60, secs%60)},
		{"Uptime_sec", secs},
		{"Memmax_MB", 0},
		{"PoolAlloc_MB", 0},
		{"PoolUsed_MB", 0},
		{"PoolFailed", 0},
		{"Ulimit-n", lim.Cur},
		{"Maxsock", lim.Cur},
		{"Maxconn", maxConn},
		{"Hard_maxconn", maxConn},
		{"CurrConns", cur},
		{"CumConns", cum},
		{"CumReq", cum},
	}
	for _, f := range fields {
		fmt.Fprintf(w, "%s: %v\n", f.key, f.val)
	}
	for _, k := range []string{"MaxSslConns", "CurrSslConns", "CumSslConns", "Maxpipes", "PipesUsed", "PipesFree",
		"ConnRate", "ConnRateLimit", "MaxConnRate", "SessRate", "SessRateLimit", "MaxSessRate", "SslRate",
		"SslRateLimit", "MaxSslRate", "SslFrontendKeyRate", "SslFrontendMaxKeyRate", "SslFrontendSessionReuse_pct",
		"SslBackendKeyRate", "SslBackendMaxKeyRate", "SslCacheLookups", "SslCacheMisses", "CompressBpsIn",
		"CompressBpsOut", "CompressBpsRateLim"} {
		fmt.Fprintf(w, "%s: 0\n", k)
	}
	fmt.Fprintf(w, "Tasks: %d\nRun_queue: 0\nIdle_pct: 100\nnode: %s\nStopping: 0\nJobs: %d\nUnstoppable Jobs: 0\nListeners: 0\n", runtime.NumGoroutine(), host, cur)
	for _, k := range []string{"ActivePeers", "ConnectedPeers", "DroppedLogs", "BusyPolling", "FailedResolutions",
		"TotalBytesOut", "TotalSplicdedBytesOut", "BytesOutRate", "DebugCommandsIssued", "CumRecvLogs"} {
		fmt.Fprintf(w, "%s: 0\n", k)
	}
	fmt.Fprintf(w, "Build info: %s\nMemmax_bytes: 0\nPoolAlloc_bytes: 0\nPoolUsed_bytes: 0\nStart_time_sec: %d\nTainted: 0\n", version, started.Unix())
}
