package integration

import (
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
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

// settledStats reads the stats once no request is in progress outside
// the section serving them and no checked server is between two states
// (before its first check, a server is "UP 1/3").
func settledStats(t *testing.T, p *process, url, section string) map[string]map[string]string {
	t.Helper()
	var rows map[string]map[string]string
	p.waitFor("no request in progress", func() bool {
		rows = statsRows(t, url)
		for key, row := range rows {
			if !strings.HasPrefix(key, section+"/") && row["scur"] != "0" && row["scur"] != "" {
				return false
			}
			if strings.Contains(row["status"], "/") {
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
// slim, whose defaults HAProxy derives from its process limits; smax,
// which in HAProxy depends on whether a closing session is still counted
// when the next one starts; and the rate maxima, which depend on where
// the seconds fall.
var comparedCounters = []string{"qcur", "qmax", "scur", "stot", "dreq", "dresp", "ereq", "econ", "eresp",
	"wretr", "wredis", "status", "weight", "act", "bck", "chkfail", "chkdown", "downtime", "qlimit", "pid", "iid",
	"sid", "lbtot", "type", "check_status", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx",
	"hrsp_other", "req_tot", "cli_abrt", "srv_abrt", "addr", "cookie", "mode", "algo", "uweight"}

// emptinessDiffers are the fields HAProxy fills where caddy cannot: slim,
// whose defaults HAProxy derives from its process limits.
var emptinessDiffers = map[string]bool{"slim": true}

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
	want := settledStats(t, haproxy, statsURL, "stats")
	haproxy.stop()
	caddy := startCaddy(t, cfg)
	sent, received := statsTraffic(t, addr)
	got := settledStats(t, caddy.process, statsURL, "stats")
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
	// The fields left empty are those HAProxy leaves empty, on the
	// stats section's rows too.
	for _, key := range append(keys, "stats/FRONTEND", "stats/BACKEND") {
		for f, v := range want[key] {
			if (v == "") != (got[key][f] == "") && !emptinessDiffers[f] {
				t.Errorf("%s %s: caddy %q, haproxy %q", key, f, got[key][f], v)
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

// The stats page lets the same requests in as HAProxy: the accounts of
// stats auth, the realm, and the first stats http-request rule that
// matches; other URIs pass on to the section's (empty) backend.
func TestStatsAuthMatchesHAProxy(t *testing.T) {
	accountsPort, rulesPort := freePort(t), freePort(t)
	cfg := writeConfig(t, "stats_auth.cfg", map[string]any{"AccountsPort": accountsPort, "RulesPort": rulesPort})
	accounts, rules := loopback(accountsPort), loopback(rulesPort)
	basic := func(cred string) string {
		return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
	}
	type req struct {
		addr string
		r    rawRequest
	}
	var reqs []req
	for _, hs := range [][]string{nil, {basic("u1:p1")}, {basic("u2:p2")}, {basic("u1:p2")}, {basic("u3:p1")}, {basic("u1")}} {
		for _, target := range []string{"/st", "/st;csv", "/other"} {
			reqs = append(reqs, req{accounts, rawRequest{method: "GET", target: target, headers: hs}})
		}
	}
	for _, hs := range [][]string{nil, {"X-Ok: yes"}, {"X-Deny: yes"}, {"X-Ok: yes", "X-Deny: yes"}, {"X-Auth: yes"}, {"X-Auth: other"}, {"X-Auth: yes", basic("u1:p1")}} {
		reqs = append(reqs, req{rules, rawRequest{method: "GET", target: "/st;csv", headers: hs}})
	}
	reqs = append(reqs, req{accounts, rawRequest{method: "PUT", target: "/st"}})
	run := func() []string {
		out := make([]string, len(reqs))
		for i, q := range reqs {
			resp, body := q.r.send(t, q.addr)
			// Caddy's authentication handler sends no body with its
			// 401; the status and the challenge must agree.
			if resp.StatusCode != http.StatusOK {
				body = ""
			} else {
				body = "page"
			}
			out[i] = fmt.Sprintf("%d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
		}
		return out
	}
	haproxy := startHAProxy(t, cfg, accounts, rules)
	want := run()
	haproxy.stop()
	startCaddy(t, cfg)
	got := run()
	for i, q := range reqs {
		if got[i] != want[i] {
			t.Errorf("%s to %s: caddy %s, haproxy %s", q.r, q.addr, got[i], want[i])
		}
	}
	if want[0] == want[3] || !strings.Contains(want[0], "Ops team") {
		t.Errorf("haproxy did not behave as the test expects: %q", want)
	}
}

// postForm posts the stats admin form and returns the status and Location.
func postForm(t *testing.T, url, form string) string {
	t.Helper()
	client := &http.Client{
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Post(url, "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	resp.Body.Close()
	return fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("Location"))
}

// The admin form changes server states as HAProxy's does, with the same
// answers (303 to ";st=<code>"), and only where stats admin allows it.
func TestStatsAdminFormMatchesHAProxy(t *testing.T) {
	adminPort, readOnlyPort := freePort(t), freePort(t)
	s1, s2 := startOrigin(t, "s1"), startOrigin(t, "s2")
	cfg := writeConfig(t, "stats_admin.cfg", map[string]any{"AdminPort": adminPort, "ReadOnlyPort": readOnlyPort, "S1": s1.Addr(), "S2": s2.Addr()})
	admin, readOnly := "http://"+loopback(adminPort)+"/st", "http://"+loopback(readOnlyPort)+"/st"
	steps := []struct{ url, form string }{
		{readOnly, "s=s1&action=maint&b=be"},
		{admin, "s=s1&action=drain&b=be"},
		{admin + ";up", "s=s2&action=maint&b=be"},
		{admin, "s=s1&s=s2&action=ready&b=#1"},
		{admin, "s=s1&s=nope&action=maint&b=be"},
		{admin, "s=nope&action=drain&b=be"},
		{admin, "s=s1&action=bogus&b=be"},
		{admin, "s=s1&action=ready&b=nope"},
		{admin, "action=drain&b=be"},
		{admin, "s=s2&b=be"},
		{admin, "s=s2&action=hdown&b=be"},
		{admin, "s=s2&action=hrunn&b=be"},
		{admin, "s=s1&action=hnolb&b=be"},
		{admin, "s=s1&action=hrunn&b=be"},
		{admin, "s=s1&action=ready&b=be"},
	}
	run := func(p *process) []string {
		var out []string
		for _, st := range steps {
			answer := postForm(t, st.url, st.form)
			rows := settledStats(t, p, admin+";csv", "admin")
			out = append(out, fmt.Sprintf("%s -> %s s1=%s s2=%s", st.form, answer, rows["be/s1"]["status"], rows["be/s2"]["status"]))
		}
		return out
	}
	haproxy := startHAProxy(t, cfg, loopback(adminPort), loopback(readOnlyPort))
	want := run(haproxy)
	haproxy.stop()
	caddy := startCaddy(t, cfg)
	got := run(caddy.process)
	for i := range steps {
		if got[i] != want[i] {
			t.Errorf("step %d: caddy %s\n         haproxy %s", i, got[i], want[i])
		}
	}
	// A drained server takes no load-balanced request, through the same
	// backend the form changed.
	postForm(t, admin, "s=s1&action=drain&b=be")
	if names := sequence(t, "http://"+loopback(adminPort)+"/", 4); strings.Join(names, " ") != "s2 s2 s2 s2" {
		t.Errorf("after drain of s1: %v", names)
	}
}

// A reload keeps the counters of the frontend and of the servers that
// still exist; a new server starts from zero.
func TestStatsCountersSurviveReload(t *testing.T) {
	port, statsPort := freePort(t), freePort(t)
	s1, s2, s3 := statusOrigin(t, "s1"), statusOrigin(t, "s2"), statusOrigin(t, "s3")
	data := map[string]any{"Port": port, "StatsPort": statsPort, "S1": s1, "S2": s2, "S3": s3, "Dead": loopback(freePort(t))}
	cfg := writeConfig(t, "stats_counters.cfg", data)
	addr, statsURL := loopback(port), "http://"+loopback(statsPort)+"/stats;csv"
	caddy := startCaddy(t, cfg)
	for range 4 {
		roundTrip(t, addr, rawRequest{method: "GET", target: "/ok"})
	}
	before := settledStats(t, caddy.process, statsURL, "stats")

	// The new config drops s3 and adds s4 to the same backend.
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v2 := strings.Replace(string(text), "    server s3 "+s3+" backup", "    server s4 "+s3+" backup", 1)
	if v2 == string(text) {
		t.Fatal("the config has no s3 line to replace")
	}
	if err := caddy.loadHAProxyConfig([]byte(v2)); err != nil {
		t.Fatal(err)
	}
	after := settledStats(t, caddy.process, statsURL, "stats")
	for _, key := range []string{"fe/FRONTEND", "app/s1", "app/s2", "app/BACKEND"} {
		for _, f := range []string{"stot", "req_tot", "hrsp_2xx", "lbtot"} {
			if after[key][f] != before[key][f] {
				t.Errorf("%s %s: %q before the reload, %q after", key, f, before[key][f], after[key][f])
			}
		}
	}
	if before["app/s1"]["stot"] == "0" || after["app/s4"] == nil || after["app/s4"]["stot"] != "0" || after["app/s3"] != nil {
		t.Errorf("rows: before %v, after %v", before, after)
	}
}

// pageShape is what an operator sees of the HTML page: the proxies'
// tables and the class (colour) of each row, in order.
var (
	pageProxy = regexp.MustCompile(`<a class=px href="#([^"]+)">`)
	pageRow   = regexp.MustCompile(`<tr class="([a-z_]+)">`)
)

func pageShape(body string, sections ...string) []string {
	var shape []string
	for _, part := range strings.Split(body, `<th class="pxname"`)[1:] {
		m := pageProxy.FindStringSubmatch(part)
		if m == nil || !slices.Contains(sections, m[1]) {
			continue
		}
		rows := []string{m[1] + ":"}
		for _, r := range pageRow.FindAllStringSubmatch(part, -1) {
			if r[1] != "titre" {
				rows = append(rows, r[1])
			}
		}
		shape = append(shape, strings.Join(rows, " "))
	}
	return shape
}

// The page and its exports answer as HAProxy's: content types, cache and
// refresh headers, and the same tables with the same rows in the same
// colours.
func TestStatsPageMatchesHAProxy(t *testing.T) {
	port, statsPort := freePort(t), freePort(t)
	cfg := writeConfig(t, "stats_counters.cfg", map[string]any{
		"Port": port, "StatsPort": statsPort,
		"S1": statusOrigin(t, "s1"), "S2": statusOrigin(t, "s2"), "S3": statusOrigin(t, "s3"),
		"Dead": loopback(freePort(t)),
	})
	base := "http://" + loopback(statsPort) + "/stats"
	run := func(p *process) []string {
		// The checked server's first check decides its colour.
		p.waitFor("s1 checked", func() bool { return statsRows(t, base+";csv")["app/s1"]["status"] == "UP" })
		var out []string
		for _, suffix := range []string{"", ";norefresh", ";csv", ";json", ";up;norefresh", ";norefresh;json"} {
			resp, body := getResponse(t, base+suffix)
			out = append(out, fmt.Sprintf("%s: %d type=%q cache=%q refresh=%q", suffix, resp.StatusCode,
				resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), resp.Header.Get("Refresh")))
			if suffix == "" {
				out = append(out, pageShape(body, "fe", "app", "dead", "stats")...)
			}
		}
		resp, _ := getResponse(t, "http://"+loopback(statsPort)+"/other")
		return append(out, fmt.Sprintf("/other: %d", resp.StatusCode))
	}
	haproxy := startHAProxy(t, cfg, loopback(statsPort))
	want := run(haproxy)
	haproxy.stop()
	caddy := startCaddy(t, cfg)
	got := run(caddy.process)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("caddy:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The times are measured where HAProxy measures them: rtime from the
// request sent to the answer's first byte, ttime the whole exchange,
// ctime the connection to the server (zero when a pooled one is reused).
func TestStatsTimes(t *testing.T) {
	const delay = 150 * time.Millisecond
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		io.WriteString(w, "slow")
	}))
	t.Cleanup(slow.Close)
	port, statsPort := freePort(t), freePort(t)
	cfg := writeConfig(t, "stats_times.cfg", map[string]any{"Port": port, "StatsPort": statsPort, "Slow": slow.Listener.Addr().String()})
	caddy := startCaddy(t, cfg)
	sequence(t, "http://"+loopback(port)+"/", 3)
	row := settledStats(t, caddy.process, "http://"+loopback(statsPort)+"/stats;csv", "stats")["app/slow"]
	ms := func(f string) time.Duration {
		n, err := strconv.Atoi(row[f])
		if err != nil {
			t.Fatalf("%s: %q", f, row[f])
		}
		return time.Duration(n) * time.Millisecond
	}
	// The sliding sum loses up to a millisecond per sample.
	if ms("rtime") < delay-3*time.Millisecond || ms("rtime_max") < delay || ms("ttime") < ms("rtime") || ms("ttime") > 10*delay {
		t.Errorf("rtime %v (max %v), ttime %v, want at least the server's %v", ms("rtime"), ms("rtime_max"), ms("ttime"), delay)
	}
	if ms("ctime") >= delay || ms("qtime") != 0 {
		t.Errorf("ctime %v, qtime %v", ms("ctime"), ms("qtime"))
	}
	if n, _ := strconv.Atoi(row["connect"]); n < 1 || row["req_tot"] != "3" {
		t.Errorf("connect %s, reuse %s, req_tot %s", row["connect"], row["reuse"], row["req_tot"])
	}
}
