package integration

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/tcptest"
)

// The Caddyfile examples of the README live in testdata/caddyfile with
// fixed ports. A test runs one with free ports instead: the ports 19001,
// 19002 … of its servers become those of the test's origins, in order,
// and every other port (listeners, admin) a free one.

// exampleServerPort is the port of an example's first server.
const exampleServerPort = 19001

// caddyfileExample is an example made runnable.
type caddyfileExample struct {
	path string
	text string
	// ports maps the example's fixed ports to those used.
	ports map[int]int
}

var examplePortRE = regexp.MustCompile(`:(\d{4,5})\b`)

// loadExample rewrites testdata/caddyfile/<name> for the origins at
// servers (host:port, in the order of the example's server ports).
func loadExample(t *testing.T, name string, servers ...string) *caddyfileExample {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "caddyfile", name))
	if err != nil {
		t.Fatal(err)
	}
	ex := &caddyfileExample{ports: map[int]int{}}
	ex.text = examplePortRE.ReplaceAllStringFunc(string(data), func(m string) string {
		fixed, _ := strconv.Atoi(m[1:])
		if _, ok := ex.ports[fixed]; !ok {
			if i := fixed - exampleServerPort; i >= 0 && i < len(servers) {
				_, port, err := net.SplitHostPort(servers[i])
				if err != nil {
					t.Fatal(err)
				}
				ex.ports[fixed], _ = strconv.Atoi(port)
			} else {
				ex.ports[fixed] = freePort(t)
			}
		}
		return ":" + strconv.Itoa(ex.ports[fixed])
	})
	ex.path = filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(ex.path, []byte(ex.text), 0o644); err != nil {
		t.Fatal(err)
	}
	return ex
}

// url is the http URL of the example's listener on fixed port.
func (ex *caddyfileExample) url(fixed int) string {
	return "http://" + loopback(ex.ports[fixed]) + "/"
}

// start runs the example under caddy; its admin API is the example's
// (2999 when it sets one) or a free port.
func (ex *caddyfileExample) start(t *testing.T) *caddyProc {
	t.Helper()
	admin := loopback(freePort(t))
	if p, ok := ex.ports[2999]; ok {
		admin = "localhost:" + strconv.Itoa(p)
	}
	return startCaddyAt(t, admin, "--adapter", "caddyfile", "--config", ex.path)
}

// haproxyBlock returns the name and lines of the example's block that
// opens with the words of opener and a "{" (an unnamed one is "web"), and
// the value of lb_retries (0 without one).
func (ex *caddyfileExample) haproxyBlock(t *testing.T, opener ...string) (name, block string, retries int) {
	t.Helper()
	lines := strings.Split(ex.text, "\n")
	var body []string
	for i := 0; i < len(lines); i++ {
		f := strings.Fields(lines[i])
		switch {
		case len(f) > len(opener) && slices.Equal(f[:len(opener)], opener) && f[len(f)-1] == "{":
			name = "web"
			if len(f) == len(opener)+2 {
				name = f[len(opener)]
			}
			for i++; strings.TrimSpace(lines[i]) != "}"; i++ {
				body = append(body, "\t"+strings.TrimSpace(lines[i]))
			}
		case len(f) == 2 && f[0] == "lb_retries":
			retries, _ = strconv.Atoi(f[1])
		}
	}
	if name == "" {
		t.Fatalf("the example has no %s block", strings.Join(opener, " "))
	}
	return name, strings.Join(body, "\n"), retries
}

// startHAProxyText runs the real HAProxy on cfg and waits for listen.
func startHAProxyText(t *testing.T, cfg, listen string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	startHAProxy(t, path, listen)
}

// startHAProxy runs the real HAProxy with the example's lb_policy block as
// its backend section, behind a frontend on a free port whose URL it
// returns. lb_retries becomes retries; the timeouts are generous.
func (ex *caddyfileExample) startHAProxy(t *testing.T) string {
	t.Helper()
	name, block, retries := ex.haproxyBlock(t, "lb_policy", "haproxy")
	addr := loopback(freePort(t))
	startHAProxyText(t, fmt.Sprintf("defaults\n\tmode http\n\ttimeout connect 5s\n\ttimeout client 30s\n\ttimeout server 30s\n\tretries %d\n"+
		"frontend fe\n\tbind %s\n\tdefault_backend %s\nbackend %s\n%s\n", retries, addr, name, name, block), addr)
	return "http://" + addr + "/"
}

// startHAProxyTCP runs the real HAProxy with the example's layer4 haproxy
// block as a listen section in mode tcp on a free port, which it returns.
func (ex *caddyfileExample) startHAProxyTCP(t *testing.T) string {
	t.Helper()
	name, block, _ := ex.haproxyBlock(t, "haproxy")
	addr := loopback(freePort(t))
	startHAProxyText(t, fmt.Sprintf("listen %s\n\tbind %s\n\tmode tcp\n%s\n", name, addr, block), addr)
	return addr
}

func addrs[T interface{ Addr() string }](origins []T) []string {
	var out []string
	for _, o := range origins {
		out = append(out, o.Addr())
	}
	return out
}

// TestCaddyfileWeightedMatchesHAProxy runs the weighted example, whose
// reverse_proxy has no upstreams of its own, and HAProxy with the same
// servers: the same origins must answer 18 requests in the same order,
// HAProxy's roundrobin for 5:3:1.
func TestCaddyfileWeightedMatchesHAProxy(t *testing.T) {
	o := startOrigins(t, "s1", "s2", "s3")
	ex := loadExample(t, "weighted.Caddyfile", addrs(o)...)
	ex.start(t)
	got := strings.Join(sequence(t, ex.url(18080), 18), " ")

	ref := ex.startHAProxy(t)
	want := strings.Join(sequence(t, ref, 18), " ")
	if got != want {
		t.Errorf("answers:\n caddy   %s\n haproxy %s", got, want)
	}
	if want != repeat(order531, 2) {
		t.Errorf("haproxy answered %s; the test expects roundrobin for 5:3:1", want)
	}
}

// cookieAnswer sends a GET with the given Cookie header (none when empty)
// on a new connection and describes the answer: the server, and the
// Set-Cookie and Cache-Control headers.
func cookieAnswer(t *testing.T, url, cookie string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s set-cookie=%q cache-control=%q", resp.StatusCode, body,
		resp.Header.Values("Set-Cookie"), resp.Header.Get("Cache-Control"))
}

// TestCaddyfilePersistenceMatchesHAProxy runs the example with cookie
// persistence, health checks and backups, and HAProxy with the same
// backend block: the cookies set and followed, and the servers that take
// the traffic as servers die, fail their checks and come back, must be
// the same.
func TestCaddyfilePersistenceMatchesHAProxy(t *testing.T) {
	cookieCases := []string{"", "", "SRV=s2", "SRV=s2", "SRV=b1", "SRV=bogus", "other=1; SRV=s1"}
	results := map[string][]string{}
	for _, proxy := range []string{"haproxy", "caddy"} {
		t.Run(proxy, func(t *testing.T) {
			s1, s2 := startCheckedOrigin(t, "s1"), startCheckedOrigin(t, "s2")
			b1, b2 := startCheckedOrigin(t, "b1"), startCheckedOrigin(t, "b2")
			ex := loadExample(t, "persistence.Caddyfile", s1.addr, s2.addr, b1.addr, b2.addr)
			url := ex.url(18080)
			if proxy == "haproxy" {
				url = ex.startHAProxy(t)
			} else {
				ex.start(t)
			}
			var got []string
			for _, c := range cookieCases {
				got = append(got, c+" → "+cookieAnswer(t, url, c))
			}
			sets, _ := runFailover(t, url, []failoverPhase{
				{"all up", nil, "s1 s2"},
				{"s1 killed", func(*testing.T) { s1.stop() }, "s2"},
			})
			got = append(got, sets...)
			// The cookie names a dead server: redispatched, with a new cookie.
			got = append(got, "SRV=s1 → "+cookieAnswer(t, url, "SRV=s1"))
			sets, _ = runFailover(t, url, []failoverPhase{
				{"s2 fails its check", func(*testing.T) { s2.unhealthy.Store(true) }, "b1 b2"},
				{"s2 healthy again", func(*testing.T) { s2.unhealthy.Store(false) }, "s2"},
				{"s1 restarted", func(t *testing.T) { s1.start(t) }, "s1 s2"},
			})
			results[proxy] = append(got, sets...)
		})
	}
	h, c := results["haproxy"], results["caddy"]
	if h == nil {
		return // haproxy skipped
	}
	if !slices.Equal(h, c) {
		t.Errorf("answers differ:\n haproxy %q\n caddy   %q", h, c)
	}
	if !strings.Contains(h[0], `set-cookie=["SRV=s1; path=/"]`) {
		t.Errorf("first answer %s: the test expects an inserted cookie", h[0])
	}
	t.Logf("answers: %q", c)
}

// TestCaddyfileACLExample runs the example with haproxy_acl matchers: the
// admin host is refused, GET /api/ requests are spread by URI hash as
// HAProxy spreads them (compared with HAProxy running the same block), and
// everything else goes to the default upstream.
func TestCaddyfileACLExample(t *testing.T) {
	o := startOrigins(t, "a1", "a2", "a3", "web")
	ex := loadExample(t, "acl.Caddyfile", addrs(o)...)
	ex.start(t)
	base := ex.url(18080)

	req, _ := http.NewRequest(http.MethodGet, base+"api/x", nil)
	req.Host = "ADMIN.example.com"
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("admin host: status %d, want 403", resp.StatusCode)
	}
	resp, err = http.Post(base+"api/x", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "web" {
		t.Errorf("POST /api/x answered by %q, want web (the method ACL fails)", body)
	}
	if _, body := get(t, base+"index.html"); body != "web" {
		t.Errorf("/index.html answered by %q, want web", body)
	}

	ref := ex.startHAProxy(t)
	var got, want []string
	for i := range 24 {
		path := fmt.Sprintf("api/item/%d", i*7)
		_, g := get(t, base+path)
		_, w := get(t, ref+path)
		got, want = append(got, g), append(want, w)
	}
	if !slices.Equal(got, want) {
		t.Errorf("servers for /api/item/…:\n caddy   %v\n haproxy %v", got, want)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(want)))) < 2 {
		t.Errorf("haproxy sent every URI to one server (%v): the comparison shows nothing", want)
	}
}

// TestReadmeCaddyfileExamples keeps the README's Caddyfile section to the
// examples these tests run: each of its caddyfile code blocks must be one
// of testdata/caddyfile, and each of those must be in the README.
func TestReadmeCaddyfileExamples(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Caddyfile\n")
	if !ok {
		t.Fatal("README.md has no Caddyfile section")
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var blocks []string
	for rest := section; ; {
		_, after, found := strings.Cut(rest, "```caddyfile\n")
		if !found {
			break
		}
		block, tail, _ := strings.Cut(after, "```\n")
		blocks = append(blocks, block)
		rest = tail
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "caddyfile", "*"))
	examples := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples[string(data)] = filepath.Base(f)
	}
	seen := map[string]bool{}
	for i, b := range blocks {
		name, ok := examples[b]
		if !ok {
			t.Errorf("README Caddyfile example %d is not one of testdata/caddyfile:\n%s", i+1, b)
		}
		seen[name] = true
	}
	for _, name := range examples {
		if !seen[name] {
			t.Errorf("testdata/caddyfile/%s is not in the README's Caddyfile section", name)
		}
	}
}

// csvColumns reads a stats CSV and returns, for the rows of proxy px, the
// named columns joined by commas, one row per string.
func csvColumns(t *testing.T, csv, px string, columns ...string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "# ") {
		t.Fatalf("not a stats CSV:\n%s", csv)
	}
	header := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	var idx []int
	for _, c := range columns {
		i := slices.Index(header, c)
		if i < 0 {
			t.Fatalf("stats CSV has no column %q", c)
		}
		idx = append(idx, i)
	}
	var rows []string
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if f[0] != px {
			continue
		}
		var vals []string
		for _, i := range idx {
			vals = append(vals, f[i])
		}
		rows = append(rows, strings.Join(vals, ","))
	}
	return rows
}

// statsExchange sends a request to the stats page with the given login
// (none when user is empty) and describes the answer.
func statsExchange(t *testing.T, method, url, user, pass, form string) (string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	client := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d www-authenticate=%q location=%q", resp.StatusCode,
		resp.Header.Get("WWW-Authenticate"), resp.Header.Get("Location")), string(body)
}

// TestCaddyfileStatsMatchesHAProxy runs the stats example and HAProxy with
// the same stats settings and backend: the login challenge, the backend's
// rows in the CSV, the admin form's answer and its effect on balancing
// must be the same.
func TestCaddyfileStatsMatchesHAProxy(t *testing.T) {
	results := map[string][]string{}
	for _, proxy := range []string{"haproxy", "caddy"} {
		t.Run(proxy, func(t *testing.T) {
			o := startOrigins(t, "s1", "s2", "s3")
			ex := loadExample(t, "stats.Caddyfile", addrs(o)...)
			base := ex.url(18080)
			if proxy == "haproxy" {
				port := freePort(t)
				cfg := fmt.Sprintf(`defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend www
	bind %s
	stats uri /stats
	stats auth admin:s3cret
	stats realm Load\ balancer
	stats refresh 10s
	stats admin if LOCALHOST
	stats show-legends
	default_backend web
backend web
	balance roundrobin
	server s1 %s weight 5 check
	server s2 %s weight 3 check
	server s3 %s backup check
`, loopback(port), o[0].Addr(), o[1].Addr(), o[2].Addr())
				path := filepath.Join(t.TempDir(), "haproxy.cfg")
				if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
					t.Fatal(err)
				}
				startHAProxy(t, path, loopback(port))
				base = "http://" + loopback(port) + "/"
			} else {
				ex.start(t)
			}
			var got []string
			add := func(what, answer string) { got = append(got, what+": "+answer) }
			a, _ := statsExchange(t, "GET", base+"stats;csv", "", "", "")
			add("no login", a)
			a, _ = statsExchange(t, "GET", base+"stats;csv", "admin", "wrong", "")
			add("bad login", a)
			a, _ = statsExchange(t, "GET", base+"stats;csv", "admin", "s3cret", "")
			add("login", a)
			// The first checks are spread over the check interval; until
			// a server's has run, its status reads "UP 1/3".
			var rows []string
			waitUntil(t, "every server checked", func() bool {
				_, csv := statsExchange(t, "GET", base+"stats;csv", "admin", "s3cret", "")
				rows = csvColumns(t, csv, "web", "svname", "status", "weight", "act", "bck")
				return !strings.Contains(strings.Join(rows, " "), "/")
			})
			add("rows", strings.Join(rows, " "))
			a, _ = statsExchange(t, "POST", base+"stats", "admin", "s3cret", "s=s2&action=maint&b=web")
			add("set s2 maint", a)
			add("answers", strings.Join(sequence(t, base, 6), " "))
			_, csv := statsExchange(t, "GET", base+"stats;csv", "admin", "s3cret", "")
			add("rows", strings.Join(csvColumns(t, csv, "web", "svname", "status", "weight", "act", "bck"), " "))
			a, _ = statsExchange(t, "GET", base+"other", "", "", "")
			add("other page", a)
			_, csv = statsExchange(t, "GET", base+"stats;csv", "admin", "s3cret", "")
			// The frontend's counters are the stats page's own concern
			// (and depend on how often the wait above polled); here
			// it must be on the page.
			add("frontend", strings.Join(csvColumns(t, csv, "www", "svname", "status"), " "))
			t.Logf("frontend counters (svname, req_tot, 2xx, 3xx, 4xx): %v", csvColumns(t, csv, "www", "svname", "req_tot", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx"))
			results[proxy] = got
		})
	}
	h, c := results["haproxy"], results["caddy"]
	if h == nil {
		return // haproxy skipped
	}
	if !slices.Equal(h, c) {
		t.Errorf("answers differ:\n haproxy %q\n caddy   %q", h, c)
	}
	if !strings.Contains(h[0], `401 www-authenticate="Basic realm=\"Load balancer\""`) {
		t.Errorf("haproxy: %s: the test expects a login challenge", h[0])
	}
	t.Logf("answers: %q", c)
}

// waitUntil polls cond until it holds, failing the test after startTimeout.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v", what, startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCaddyfileBlockErrorNamesLine runs `caddy adapt` and `caddy validate`
// on a Caddyfile whose lb_policy block has a misspelt server option: both
// fail and name the Caddyfile's file:line and the option.
func TestCaddyfileBlockErrorNamesLine(t *testing.T) {
	dir := t.TempDir()
	body := ":8080 {\n\treverse_proxy {\n\t\tlb_policy haproxy web {\n\t\t\tbalance roundrobin\n\t\t\tserver s1 127.0.0.1:9 wieght 5\n\t\t}\n\t}\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "Caddyfile"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	want := `Caddyfile:5: lb_policy haproxy: server "s1": unknown option "wieght" (did you mean "weight"?)`
	// validate logs the error as JSON, with its quotes escaped.
	logged := strings.ReplaceAll(want, `"`, `\"`)
	for _, cmd := range []string{"adapt", "validate"} {
		_, stderr, code := runCaddyCommand(t, dir, cmd, "--config", "Caddyfile")
		if code == 0 || !strings.Contains(stderr, want) && !strings.Contains(stderr, logged) {
			t.Errorf("caddy %s: exit %d, stderr:\n%s\nwant a failure naming %s", cmd, code, stderr, want)
		}
	}
}

// TestCaddyfileTCPMatchesHAProxy runs the layer4 example and HAProxy with
// the same block as a listen section in mode tcp: the servers connections
// go to, in order while all are up, and as a set once a server is dead
// (redispatched at once) and once both actives are (the backup).
func TestCaddyfileTCPMatchesHAProxy(t *testing.T) {
	results := map[string][]string{}
	for _, proxy := range []string{"haproxy", "caddy"} {
		t.Run(proxy, func(t *testing.T) {
			db1, db2, spare := tcptest.Start(t, "db1", false), tcptest.Start(t, "db2", false), tcptest.Start(t, "spare", false)
			ex := loadExample(t, "tcp.Caddyfile", db1.Addr(), db2.Addr(), spare.Addr())
			addr := loopback(ex.ports[15432])
			if proxy == "haproxy" {
				addr = ex.startHAProxyTCP(t)
			} else {
				// HAProxy's start waits with a connection to the
				// listener, which takes a server: so does this.
				ex.start(t).waitListening(addr)
			}
			var got []string
			for range 9 {
				got = append(got, tcpAnswer("127.0.0.1", addr, ""))
			}
			// settled waits until 6 answers in a row come from want.
			settled := func(want string) string {
				var window []string
				waitUntil(t, "answers from "+want, func() bool {
					window = append(window, tcpAnswer("127.0.0.1", addr, ""))
					if len(window) > 6 {
						window = window[1:]
					}
					return len(window) == 6 && setOf(window) == want
				})
				return setOf(window)
			}
			db1.Stop()
			got = append(got, settled("db2"))
			db2.Stop()
			got = append(got, settled("spare"))
			results[proxy] = got
		})
	}
	h, c := results["haproxy"], results["caddy"]
	if h == nil {
		return // haproxy skipped
	}
	if !slices.Equal(h, c) {
		t.Errorf("answers differ:\n haproxy %q\n caddy   %q", h, c)
	}
	if setOf(h[:9]) != "db1 db2" {
		t.Errorf("haproxy answered %v while db1 and db2 were up", h[:9])
	}
}
