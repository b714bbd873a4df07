package haproxyadapter

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/persist"
)

// loadBackend builds the model of a haproxy.cfg and returns its backend
// "be".
func loadBackend(t *testing.T, text string) *config.Proxy {
	t.Helper()
	cfg, diags := config.Load("t.cfg", []byte(text), os.LookupEnv)
	if config.HasErrors(diags) {
		t.Fatalf("config: %v", diags)
	}
	b := cfg.Proxy("be")
	if b == nil {
		t.Fatal("no backend be")
	}
	return b
}

func TestCookieConfig(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   string
		want  *persist.Config
		diags []string
	}{
		{"none", "backend be\n  server s1 127.0.0.1:80\n", nil, nil},
		{"every option",
			"backend be\n  cookie SRV insert indirect nocache postonly preserve httponly secure domain .a.com domain .b.com maxidle 30m maxlife 2h attr SameSite=Lax attr x=y\n  server s1 127.0.0.1:80 cookie a1\n",
			&persist.Config{Name: "SRV", Mode: "insert", Indirect: true, NoCache: true, PostOnly: true, Preserve: true,
				HTTPOnly: true, Secure: true, Domains: []string{".a.com", ".b.com"},
				MaxIdle: persist.Duration(30 * time.Minute), MaxLife: persist.Duration(2 * time.Hour),
				Attrs: []string{"SameSite=Lax", "x=y"}}, nil},
		{"passive", "backend be\n  cookie JSESSIONID prefix\n  server s1 127.0.0.1:80 cookie a1\n",
			&persist.Config{Name: "JSESSIONID", Mode: "prefix"}, nil},
		{"inherited with its key",
			"defaults\n  mode http\n  dynamic-cookie-key s3cret\n  cookie SRV insert dynamic\nbackend be\n  server s1 127.0.0.1:80\n  server s2 web.example:80\n  server s3 10.0.0.3:80 cookie own\n",
			&persist.Config{Name: "SRV", Mode: "insert", Dynamic: true, DynamicKey: "s3cret"},
			[]string{`t.cfg:7: cookie "be": server s2 (web.example:80) gets no dynamic cookie`}},
		{"dynamic without key", "backend be\n  cookie SRV insert dynamic\n  server s1 127.0.0.1:80\n",
			&persist.Config{Name: "SRV", Mode: "insert", Dynamic: true},
			[]string{`t.cfg:2: cookie "be": dynamic cookies need a dynamic-cookie-key`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, diags := cookieConfig(loadBackend(t, tc.cfg))
			if !reflect.DeepEqual(got, tc.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tc.want)
				t.Errorf("cookieConfig:\n got %s\nwant %s", g, w)
			}
			if len(diags) != len(tc.diags) {
				t.Fatalf("diagnostics %v, want %d", diags, len(tc.diags))
			}
			for i, d := range diags {
				if !strings.HasPrefix(d.Error(), tc.diags[i]) {
					t.Errorf("diagnostic %q, want it to start with %q", d.Error(), tc.diags[i])
				}
			}
		})
	}
}

func TestCookieHandlerJSON(t *testing.T) {
	if got := string(cookieHandler()); got != `{"handler":"haproxy_cookie"}` {
		t.Errorf("cookieHandler() = %s", got)
	}
}
