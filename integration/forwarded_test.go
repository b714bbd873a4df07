package integration

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

// TestForwardingHeadersMatchHAProxy sends a request carrying forwarding
// headers of its own (two X-Forwarded-For lines, X-Forwarded-Proto and
// -Host, Via) through HAProxy and Caddy, for each form of option
// forwardfor in the frontend, the backend or both, and compares, line by
// line, the forwarding headers the server receives and the Via lines the
// client gets back (the server sends one).
func TestForwardingHeadersMatchHAProxy(t *testing.T) {
	for _, tc := range []struct{ name, frontend, backend string }{
		{"no option", "", ""},
		{"forwardfor", "option forwardfor", ""},
		{"forwardfor in the backend", "", "option forwardfor"},
		{"custom header", "option forwardfor header X-Client", ""},
		{"the backend's header wins", "option forwardfor header X-Client", "option forwardfor"},
		{"if-none with the header present", "option forwardfor if-none", ""},
		{"if-none on one side only", "option forwardfor if-none", "option forwardfor"},
		{"if-none with a custom header absent", "option forwardfor header X-Client if-none", ""},
		{"except the client's network", "option forwardfor except 127.0.0.0/8", ""},
		{"except in dotted form", "", "option forwardfor except 127.0.0.1/255.255.255.0"},
		{"except another network", "option forwardfor except 10.0.0.0/8", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startHeaderOrigin(t)
			port := freePort(t)
			cfg := fmt.Sprintf(`defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend web
    bind %s
    %s
    default_backend app
backend app
    %s
    server s %s
`, loopback(port), tc.frontend, tc.backend, o.addr)
			path := filepath.Join(t.TempDir(), "haproxy.cfg")
			if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			url := "http://" + loopback(port) + "/"

			haproxy := startHAProxy(t, path, loopback(port))
			wantServer, wantVia := o.exchange(t, url)
			haproxy.stop()

			startCaddy(t, path)
			gotServer, gotVia := o.exchange(t, url)
			if !reflect.DeepEqual(gotServer, wantServer) {
				t.Errorf("the server received\n  caddy:   %v\n  haproxy: %v", gotServer, wantServer)
			}
			if !reflect.DeepEqual(gotVia, wantVia) {
				t.Errorf("the client got Via %q from caddy, %q from haproxy", gotVia, wantVia)
			}
		})
	}
}

// headerOrigin records the forwarding header lines of the last request and
// answers with a Via line of its own.
type headerOrigin struct {
	addr string
	mu   sync.Mutex
	last map[string][]string
}

func startHeaderOrigin(t *testing.T) *headerOrigin {
	t.Helper()
	o := &headerOrigin{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := map[string][]string{}
		for _, name := range append(forwardingHeaders, "X-Client") {
			if v := r.Header.Values(name); len(v) > 0 {
				got[name] = v
			}
		}
		o.mu.Lock()
		o.last = got
		o.mu.Unlock()
		w.Header().Add("Via", "1.1 upstream")
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	o.addr = srv.Listener.Addr().String()
	return o
}

// exchange sends the request and returns the header lines the origin got
// and the Via lines of the response.
func (o *headerOrigin) exchange(t *testing.T, url string) (map[string][]string, []string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header["X-Forwarded-For"] = []string{"192.0.2.1", "198.51.100.7"}
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", "example.org")
	req.Header.Set("Via", "1.0 client-proxy")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last, resp.Header.Values("Via")
}
