package haproxyadapter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorRoutes checks that proxy errors get HAProxy's answers: a failed
// connection is a 503, with the backend's errorfile before the frontend's.
func TestErrorRoutes(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"be503.http": "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nbackend down\n",
		"fe503.http": "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nfrontend down\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	src := `defaults
    mode http
    timeout connect 200ms
    timeout client 5s
    timeout server 5s

frontend www
    bind 127.0.0.1:8080
    errorfile 503 fe503.http
    use_backend api if { path_beg /api }
    default_backend web

backend api
    errorfile 503 be503.http
    server a 127.0.0.1:9001

backend web
    server w 127.0.0.1:9002
`
	if err := os.WriteFile(cfgPath, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := Adapter{}.Adapt([]byte(src), map[string]any{"filename": cfgPath})
	if err != nil {
		t.Fatal(err)
	}
	js := strings.Join(strings.Fields(string(out)), "")
	for _, want := range []string{
		// The api backend's requests are tagged so its page can be found.
		`{"handler":"vars","haproxy_backend":"api"}`,
		// A dial error is a 503, first with the backend's page …
		`"match":[{"vars":{"haproxy_backend":["api"]},"vars_regexp":{"{http.error.message}":{"pattern":"^(dial|tls:|remoteerror:tls:)"}}}]`,
		`backenddown`,
		// … then the frontend's for every other backend.
		`"match":[{"vars_regexp":{"{http.error.message}":{"pattern":"^(dial|tls:|remoteerror:tls:)"}}}]`,
		`frontenddown`,
		// A retry on the same server waits min(timeout connect, 1s).
		`"retry_turnaround":200000000`,
	} {
		if !strings.Contains(js, want) {
			t.Errorf("adapted config lacks %s\n%s", want, out)
		}
	}
	if strings.Count(js, `"haproxy_backend":"web"`) != 0 {
		t.Errorf("the web backend has no pages of its own and needs no tag")
	}
}
