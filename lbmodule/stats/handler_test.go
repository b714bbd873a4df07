package stats

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// serve runs the handler behind a real listener; requests it passes on
// get 418 from the next handler.
func serve(t *testing.T, h *Handler) string {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusTeapot)
		return nil
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.ServeHTTP(w, r, next); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func fetch(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// The page's options show in its head; other URIs and methods pass on.
func TestHandlerOptions(t *testing.T) {
	base := serve(t, &Handler{
		URI: "/s", Refresh: caddy.Duration(7 * time.Second), HideVersion: true,
		ShowNode: true, Node: "edge1", ShowDesc: true, Description: "Front <door>",
	})
	resp, body := fetch(t, "GET", base+"/s", "")
	if resp.StatusCode != 200 || resp.Header.Get("Refresh") != "7" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("page: %d refresh %q cache %q", resp.StatusCode, resp.Header.Get("Refresh"), resp.Header.Get("Cache-Control"))
	}
	for _, want := range []string{" on edge1</h2>", "<h2>Front &lt;door&gt;</h2>", `href="/s;norefresh">Disable refresh`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "HAProxy version") {
		t.Error("hide_version left the version in")
	}
	if resp, _ := fetch(t, "GET", base+"/s;norefresh;up", ""); resp.Header.Get("Refresh") != "" {
		t.Error(";norefresh still refreshes")
	}
	for _, tc := range []struct{ method, path string }{{"GET", "/other"}, {"PUT", "/s"}, {"DELETE", "/s;csv"}, {"GET", "/x/s"}} {
		if resp, _ := fetch(t, tc.method, base+tc.path, ""); resp.StatusCode != http.StatusTeapot {
			t.Errorf("%s %s: %d, want it passed on", tc.method, tc.path, resp.StatusCode)
		}
	}
	if resp, body := fetch(t, "HEAD", base+"/s;csv", ""); resp.StatusCode != 200 || body != "" {
		t.Errorf("HEAD: %d %q", resp.StatusCode, body)
	}
}

// Without admin rights the form is refused; the modifiers after the
// prefix come back in the redirect.
func TestHandlerAdminDenied(t *testing.T) {
	base := serve(t, &Handler{URI: "/s", Admin: json.RawMessage("false")})
	resp, _ := fetch(t, "POST", base+"/s;up", "s=a&action=maint&b=x")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/s;st=DENY;up" {
		t.Errorf("POST: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := fetch(t, "GET", base+"/s", ""); strings.Contains(body, "<select name=action>") {
		t.Error("the page offers the admin form without admin rights")
	}
	// An admin matcher set decides per request.
	base = serve(t, &Handler{URI: "/s", Admin: json.RawMessage(`{"remote_ip":{"ranges":["10.9.9.9"]}}`)})
	if resp, _ := fetch(t, "POST", base+"/s", "s=a&action=maint&b=x"); resp.Header.Get("Location") != "/s;st=DENY" {
		t.Errorf("POST from outside the admin range: %q", resp.Header.Get("Location"))
	}
	base = serve(t, &Handler{URI: "/s", Admin: json.RawMessage(`{"remote_ip":{"ranges":["127.0.0.0/8"]}}`)})
	if resp, _ := fetch(t, "POST", base+"/s", "s=a&action=maint&b=nope"); resp.Header.Get("Location") != "/s;st=ERRP" {
		t.Errorf("POST from the admin range to an unknown backend: %q", resp.Header.Get("Location"))
	}
}

// The form sets weights too (HAProxy's page cannot; its CLI can), within
// the limits "set weight" has.
func TestHandlerAdminWeight(t *testing.T) {
	b := attach(t, lbmodule.BackendConfig{Backend: "weights", ProxyID: 3, Servers: []lbmodule.ServerConfig{
		{Name: "a", Dial: "127.0.0.1:1"}, {Name: "b", Dial: "127.0.0.1:2"},
	}})
	base := serve(t, &Handler{URI: "/s", Admin: json.RawMessage("true")})
	for _, tc := range []struct {
		form, result string
		a, b         int
	}{
		{"s=a&s=b&action=weight&weight=7&b=weights", "DONE", 7, 7},
		{"s=a&action=weight&weight=300&b=%233", "ERRP", 7, 7},
		{"s=b&action=weight&weight=x&b=weights", "ERRP", 7, 7},
		{"s=b&action=weight&weight=0&b=weights", "DONE", 7, 0},
	} {
		resp, _ := fetch(t, "POST", base+"/s", tc.form)
		if got := resp.Header.Get("Location"); got != "/s;st="+tc.result || b.Server("a").Weight() != tc.a || b.Server("b").Weight() != tc.b {
			t.Errorf("%s: %s, weights %d %d; want %s, %d %d", tc.form, got, b.Server("a").Weight(), b.Server("b").Weight(), tc.result, tc.a, tc.b)
		}
	}
}
