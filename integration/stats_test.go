package integration

import (
	"encoding/csv"
	"net"
	"time"

	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// statusOrigin answers "<name>" with the status its ?status= query asks
// for (200 by default).
func statusOrigin(t *testing.T, name string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := 200
		if s := r.URL.Query().Get("status"); s != "" {
			code, _ = strconv.Atoi(s)
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(code)
		io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// statsRows reads a ;csv page into rows keyed "pxname/svname", each a map
// of field name to value.
func statsRows(t *testing.T, url string) map[string]map[string]string {
	t.Helper()
	status, body := get(t, url)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, status, body)
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "# "))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v\n%s", url, err, body)
	}
	rows := map[string]map[string]string{}
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, name := range records[0] {
			if i < len(rec) {
				row[name] = rec[i]
			}
		}
		rows[row["pxname"]+"/"+row["svname"]] = row
	}
	return rows
}

// roundTrip writes a raw request on a new connection and reads the whole
// answer; it returns the bytes sent and received.
func roundTrip(t *testing.T, addr string, r rawRequest) (sent, received int64) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", r, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	wire := r.wire()
	if _, err := io.WriteString(c, wire); err != nil {
		t.Fatalf("%s: %v", r, err)
	}
	answer, err := io.ReadAll(c)
	if err != nil || len(answer) == 0 {
		t.Fatalf("%s: %d bytes, %v", r, len(answer), err)
	}
	return int64(len(wire)), int64(len(answer))
}

// statsTraffic sends the same requests to a proxy: 200s spread over the
// servers, 404s, a POST, denied requests and requests to a dead backend.
// It returns the bytes sent and received.
func statsTraffic(t *testing.T, addr string) (sent, received int64) {
	t.Helper()
	var reqs []rawRequest
	for range 6 {
		reqs = append(reqs, rawRequest{method: "GET", target: "/ok"})
	}
	for range 3 {
		reqs = append(reqs, rawRequest{method: "GET", target: "/missing?status=404"})
	}
	reqs = append(reqs, rawRequest{method: "POST", target: "/ok", headers: []string{"Content-Length: 5"}, body: "hello"})
	for range 2 {
		reqs = append(reqs, rawRequest{method: "GET", target: "/denied"})
	}
	for range 2 {
		reqs = append(reqs, rawRequest{method: "GET", target: "/dead"})
	}
	for _, r := range reqs {
		s, rcv := roundTrip(t, addr, r)
		sent += s
		received += rcv
	}
	return sent, received
}

// settledStats reads the stats once no request is in progress outside the
// stats section itself.
func settledStats(t *testing.T, p *process, url string) map[string]map[string]string {
	t.Helper()
	var rows map[string]map[string]string
	p.waitFor("no request in progress", func() bool {
		rows = statsRows(t, url)
		for key, row := range rows {
			if !strings.HasPrefix(key, "stats/") && row["scur"] != "0" && row["scur"] != "" {
				return false
			}
		}
		return true
	})
	return rows
}

// comparedCounters are the fields whose values HAProxy and caddy must
// agree on after the same traffic. Left out: bin and bout, which HAProxy
// counts in its internal message format (a few bytes per message less
// than on the wire; caddy's frontend counts the wire, checked apart), and
// slim, whose defaults HAProxy derives from its process limits; and smax,
// which in HAProxy depends on whether a closing session is still counted
// when the next one starts.
var comparedCounters = []string{"qcur", "qmax", "scur", "stot", "dreq", "dresp", "ereq", "econ", "eresp",
	"wretr", "wredis", "status", "weight", "act", "bck", "chkfail", "chkdown", "downtime", "qlimit", "pid", "iid",
	"sid", "lbtot", "type", "rate_max", "check_status", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx",
	"hrsp_other", "req_rate_max", "req_tot", "cli_abrt", "srv_abrt", "addr", "cookie", "mode", "algo", "uweight"}

// The counters HAProxy and caddy keep for the same traffic agree, field
// by field, on the frontend, both backends and every server; caddy's
// frontend bytes are the bytes on the wire.
func TestStatsCountersMatchHAProxy(t *testing.T) {
	port, statsPort := freePort(t), freePort(t)
	cfg := writeConfig(t, "stats_counters.cfg", map[string]any{
		"Port": port, "StatsPort": statsPort,
		"S1": statusOrigin(t, "s1"), "S2": statusOrigin(t, "s2"), "S3": statusOrigin(t, "s3"),
		"Dead": loopback(freePort(t)),
	})
	addr, statsURL := loopback(port), "http://"+loopback(statsPort)+"/stats;csv"
	// Only the stats port is probed: HAProxy counts an empty connection
	// to the frontend as a bad request.
	haproxy := startHAProxy(t, cfg, loopback(statsPort))
	statsTraffic(t, addr)
	want := settledStats(t, haproxy, statsURL)
	haproxy.stop()
	caddy := startCaddy(t, cfg)
	sent, received := statsTraffic(t, addr)
	got := settledStats(t, caddy.process, statsURL)
	keys := []string{"fe/FRONTEND", "app/s1", "app/s2", "app/s3", "app/BACKEND", "dead/d1", "dead/BACKEND"}
	for _, key := range keys {
		if want[key] == nil || got[key] == nil {
			t.Fatalf("row %s: haproxy %v, caddy %v", key, want[key] != nil, got[key] != nil)
		}
		for _, f := range comparedCounters {
			if got[key][f] != want[key][f] {
				t.Errorf("%s %s: caddy %q, haproxy %q", key, f, got[key][f], want[key][f])
			}
		}
	}
	fe := got["fe/FRONTEND"]
	if fe["bin"] != strconv.FormatInt(sent, 10) || fe["bout"] != strconv.FormatInt(received, 10) {
		t.Errorf("frontend bytes: bin %s bout %s, the clients sent %d and received %d", fe["bin"], fe["bout"], sent, received)
	}
	// The traffic reached what the test means it to.
	if want["fe/FRONTEND"]["hrsp_4xx"] != "5" || want["dead/d1"]["econ"] != "2" || want["app/s3"]["stot"] != "0" {
		t.Errorf("haproxy did not see the traffic the test expects: %v", want)
	}
}
