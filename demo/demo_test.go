package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-haproxy/caddy-haproxy/internal/porttest"
)

// freePort returns a loopback address nobody listens on.
func freePort(t *testing.T) string { return porttest.Loopback(porttest.Free(t)) }

// relocated returns the example config with its fixed ports moved to free
// ones, so that the test runs beside anything else on the machine.
func relocated(t *testing.T) []byte {
	t.Helper()
	text := string(exampleConfig)
	for _, fixed := range []string{"127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003", "127.0.0.1:9004", "127.0.0.1:8404"} {
		if !strings.Contains(text, fixed) {
			t.Fatalf("the example no longer has a server on %s; update the test", fixed)
		}
		text = strings.ReplaceAll(text, fixed, freePort(t))
	}
	return []byte(text)
}

func TestDemoRunsTheExample(t *testing.T) {
	caddy.DefaultAdminListen = freePort(t)
	listen := freePort(t)

	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, options{config: relocated(t), filename: exampleFilename, listen: listen, out: pw})
		pw.Close()
	}()

	// Read until the demo is waiting for Ctrl-C (or has stopped).
	var printed bytes.Buffer
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		printed.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	out := printed.String()
	t.Log(out)

	if m := regexp.MustCompile(`(?m)^Order: (.*)$`).FindStringSubmatch(out); m == nil {
		t.Errorf("no Order line printed")
	} else if want := "s1 s1 s2 s1 s3 s2 s1 s1 s2"; m[1] != want {
		t.Errorf("order = %q, want HAProxy's roundrobin order for 5:3:1 %q", m[1], want)
	}
	if !strings.Contains(out, "curl http://"+listen+"/") {
		t.Errorf("the curl hint does not name the --listen address %s", listen)
	}
	// The global section's daemon line has no meaning in Caddy: it must be
	// reported with its place in the file.
	if !regexp.MustCompile(`(?m)^  demo/haproxy\.cfg:\d+ \(daemon\)`).MatchString(out) {
		t.Errorf("no warning naming demo/haproxy.cfg:LINE (daemon)")
	}

	// The monitoring port serves the stats page to its user only.
	m := regexp.MustCompile(`(?m)^  stats page: (http://\S+)    \(user (\S+), password (\S+)\)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no stats page line with its credentials printed")
	}
	for _, tc := range []struct {
		user, password string
		want           int
	}{{"", "", http.StatusUnauthorized}, {m[2], "wrong", http.StatusUnauthorized}, {m[2], m[3], http.StatusOK}} {
		req, _ := http.NewRequest("GET", m[1]+";csv", nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("stats page as %q/%q: status %d, want %d", tc.user, tc.password, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusOK && !strings.Contains(string(body), "app,s1,") {
			t.Errorf("the stats CSV has no row for server s1:\n%s", body)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the demo did not stop after its context was cancelled")
	}
}

func TestDemoPrintConfig(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), options{config: exampleConfig, filename: exampleFilename, printConfig: true, out: &out})
	if err != nil {
		t.Fatal(err)
	}
	cfgPart, jsonPart, ok := strings.Cut(out.String(), "# Caddy JSON")
	if !ok {
		t.Fatalf("no Caddy JSON section in:\n%s", out.String())
	}
	if !strings.Contains(cfgPart, string(exampleConfig)) {
		t.Errorf("the embedded haproxy.cfg is not printed verbatim")
	}
	_, jsonPart, _ = strings.Cut(jsonPart, "\n")
	dec := json.NewDecoder(strings.NewReader(jsonPart))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("the printed Caddy JSON does not parse: %v", err)
	}
	if _, ok := doc["apps"]; !ok {
		t.Errorf("the printed Caddy JSON has no apps")
	}
}

func TestDemoBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	caddy.DefaultAdminListen = freePort(t)

	var out bytes.Buffer
	err = run(context.Background(), options{config: relocated(t), filename: exampleFilename, listen: busy.Addr().String(), out: &out})
	if err == nil {
		t.Fatal("run succeeded on a busy port")
	}
	for _, want := range []string{busy.Addr().String(), "already in use", "--listen"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestReplaceBind(t *testing.T) {
	cfg := []byte("frontend web\n    bind 127.0.0.1:8080 name web\n    bind 127.0.0.1:80801\n")
	for _, tc := range []struct {
		to, want, wantErr string
	}{
		{to: "127.0.0.1:9090", want: "frontend web\n    bind 127.0.0.1:9090 name web\n    bind 127.0.0.1:80801\n"},
		{to: ":9090", want: "frontend web\n    bind :9090 name web\n    bind 127.0.0.1:80801\n"},
		{to: "9090", wantErr: "want host:port"},
	} {
		t.Run(tc.to, func(t *testing.T) {
			got, err := replaceBind(cfg, defaultFrontend, tc.to)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	if _, err := replaceBind([]byte("listen x\n  bind :1\n"), defaultFrontend, ":2"); err == nil {
		t.Errorf("no error when the config has no bind %s", defaultFrontend)
	}
}

// The example must keep a frontend on the address the help text names.
func TestExampleBindsDefaultFrontend(t *testing.T) {
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^\s*bind %s\b`, regexp.QuoteMeta(defaultFrontend))).Match(exampleConfig) {
		t.Errorf("demo/haproxy.cfg has no \"bind %s\" line", defaultFrontend)
	}
}
