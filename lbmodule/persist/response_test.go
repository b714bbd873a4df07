package persist

import (
	"net/http"
	"net/netip"
	"slices"
	"testing"
)

func TestWriteResponseInsertedCookie(t *testing.T) {
	full := &Config{
		Name: "SRV", Mode: ModeInsert, MaxIdle: Duration(1800e9), MaxLife: Duration(7200e9),
		Domains: []string{".a.com", ".b.com"}, HTTPOnly: true, Secure: true, Attrs: []string{"SameSite=Lax", "x=y"},
	}
	d := date(now)
	for _, tc := range []struct {
		name   string
		cfg    *Config
		resp   Response
		want   []string
		status ResponseStatus
	}{
		{"first visit", &Config{Name: "SRV", Mode: ModeInsert},
			Response{Method: "GET", Status: 200, ServerCookie: "a1", Request: Request{Server: -1}},
			[]string{"SRV=a1; path=/"}, ResponseInserted},
		{"valid cookie gets none", &Config{Name: "SRV", Mode: ModeInsert},
			Response{Method: "GET", Status: 200, ServerCookie: "a1", Request: Request{Server: 0, Direct: true}},
			nil, ResponseNone},
		// The exact bytes HAProxy 2.6 sends for this configuration.
		{"every attribute", full,
			Response{Method: "GET", Status: 200, ServerCookie: "a1", Request: Request{Server: -1}},
			[]string{"SRV=a1|" + d + "|" + d + "; path=/; domain=.a.com; domain=.b.com; HttpOnly; Secure; SameSite=Lax; x=y"}, ResponseInserted},
		{"first date kept", full,
			Response{Method: "GET", Status: 200, ServerCookie: "a1", Request: Request{Server: 0, Direct: true, Last: now - 8, First: now - 600}},
			[]string{"SRV=a1|" + d + "|" + date(now-600) + "; path=/; domain=.a.com; domain=.b.com; HttpOnly; Secure; SameSite=Lax; x=y"}, ResponseUpdated},
		{"date refresh waits for the date to pass", full,
			Response{Method: "GET", Status: 200, ServerCookie: "a1", Request: Request{Server: 0, Direct: true, Last: now, First: now - 600}},
			nil, ResponseNone},
		{"first date dropped without maxlife", &Config{Name: "SRV", Mode: ModeInsert},
			Response{Method: "GET", Status: 200, ServerCookie: "a1", Request: Request{Server: 0, Direct: true, Last: now + 4, First: now - 600}},
			[]string{"SRV=a1; path=/"}, ResponseUpdated},
		{"server without cookie", &Config{Name: "SRV", Mode: ModeInsert, Domains: []string{".a.com"}, Secure: true},
			Response{Method: "GET", Status: 200, Request: Request{Server: -1}},
			[]string{"SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/; domain=.a.com; Secure"}, ResponseInserted},
		{"postonly GET", &Config{Name: "SRV", Mode: ModeInsert, PostOnly: true},
			Response{Method: "GET", Status: 200, ServerCookie: "a1", Request: Request{Server: -1}},
			nil, ResponseNone},
		{"postonly POST", &Config{Name: "SRV", Mode: ModeInsert, PostOnly: true},
			Response{Method: "POST", Status: 200, ServerCookie: "a1", Request: Request{Server: -1}},
			[]string{"SRV=a1; path=/"}, ResponseInserted},
		{"interim response", &Config{Name: "SRV", Mode: ModeInsert},
			Response{Method: "GET", Status: 103, ServerCookie: "a1", Request: Request{Server: -1}},
			nil, ResponseNone},
		{"ignored", &Config{Name: "SRV", Mode: ModeInsert},
			Response{Method: "GET", Status: 200, ServerCookie: "a1", Request: Request{Server: -1}, Ignore: true},
			nil, ResponseNone},
		{"passive inserts nothing", &Config{Name: "SRV"},
			Response{Method: "GET", Status: 200, ServerCookie: "a1", Request: Request{Server: -1}},
			nil, ResponseNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.resp.Now = now
			h := http.Header{}
			got := tc.cfg.WriteResponse(h, tc.resp)
			if !slices.Equal(h["Set-Cookie"], tc.want) {
				t.Errorf("Set-Cookie = %q, want %q", h["Set-Cookie"], tc.want)
			}
			if got != tc.status {
				t.Errorf("status %v, want %v", got, tc.status)
			}
		})
	}
}

func TestWriteResponseServerCookie(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    *Config
		direct bool
		in     []string
		want   []string
		status ResponseStatus
	}{
		// Checked against HAProxy 2.6.
		{"rewrite", &Config{Name: "APP", Mode: ModeRewrite}, false,
			[]string{"APP=anything; path=/"}, []string{"APP=a1; path=/"}, ResponseRewritten},
		{"rewrite drops blanks around equal", &Config{Name: "APP", Mode: ModeRewrite}, true,
			[]string{"APP = anything ; path=/", "other = 1"}, []string{"APP=a1 ; path=/", "other=1"}, ResponseRewritten},
		{"prefix", &Config{Name: "APP", Mode: ModePrefix}, true,
			[]string{"APP=xyz; path=/"}, []string{"APP=a1~xyz; path=/"}, ResponseRewritten},
		{"insert deletes the server's", &Config{Name: "SRV", Mode: ModeInsert}, true,
			[]string{"a=1", "SRV=x; path=/"}, []string{"a=1"}, ResponseDeleted},
		{"preserve keeps it", &Config{Name: "SRV", Mode: ModeInsert, Preserve: true}, false,
			[]string{"SRV=x; path=/"}, []string{"SRV=x; path=/"}, ResponsePreserved},
		{"passive indirect deletes on direct", &Config{Name: "SRV", Indirect: true}, true,
			[]string{"SRV=x"}, nil, ResponseDeleted},
		{"passive indirect keeps otherwise", &Config{Name: "SRV", Indirect: true}, false,
			[]string{"SRV=x"}, []string{"SRV=x"}, ResponsePreserved},
		{"passive", &Config{Name: "SRV"}, true,
			[]string{"SRV=x"}, []string{"SRV=x"}, ResponsePreserved},
		{"only the first cookie of a header", &Config{Name: "APP", Mode: ModeRewrite}, true,
			[]string{"x=1; APP=2"}, []string{"x=1; APP=2"}, ResponseNone},
		{"no equal sign", &Config{Name: "APP", Mode: ModeRewrite}, true,
			[]string{"APP ; path=/"}, []string{"APP ; path=/"}, ResponseNone},
		{"comma in expires", &Config{Name: "APP", Mode: ModeRewrite}, true,
			[]string{"APP=v; Expires=Wed, 21 Oct 2026 07:28:00 GMT"}, []string{"APP=a1; Expires=Wed, 21 Oct 2026 07:28:00 GMT"}, ResponseRewritten},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Set-Cookie": slices.Clone(tc.in)}
			server := -1
			if tc.direct {
				server = 0
			}
			got := tc.cfg.WriteResponse(h, Response{Method: "GET", Status: 200, ServerCookie: "a1", Now: now,
				Request: Request{Server: server, Direct: tc.direct}})
			if !slices.Equal(h["Set-Cookie"], tc.want) {
				t.Errorf("Set-Cookie = %q, want %q", h["Set-Cookie"], tc.want)
			}
			if got != tc.status {
				t.Errorf("status %v, want %v", got, tc.status)
			}
		})
	}
}

func TestWriteResponseInsertReplacesServerCookie(t *testing.T) {
	cfg := &Config{Name: "SRV", Mode: ModeInsert}
	h := http.Header{"Set-Cookie": {"SRV=mine", "b=2"}}
	cfg.WriteResponse(h, Response{Method: "GET", Status: 200, ServerCookie: "a1", Now: now, Request: Request{Server: -1}})
	if want := []string{"b=2", "SRV=a1; path=/"}; !slices.Equal(h["Set-Cookie"], want) {
		t.Errorf("Set-Cookie = %q, want %q", h["Set-Cookie"], want)
	}
}

func TestWriteResponseNoCache(t *testing.T) {
	cfg := &Config{Name: "SRV", Mode: ModeInsert, NoCache: true}
	for _, tc := range []struct {
		name    string
		method  string
		header  http.Header
		private bool
	}{
		// Checked against HAProxy 2.6.
		{"plain 200 is not cacheable", "GET", http.Header{}, false},
		{"max-age", "GET", http.Header{"Cache-Control": {"max-age=60"}}, true},
		{"POST is not cacheable", "POST", http.Header{"Cache-Control": {"max-age=60"}}, false},
		{"public POST is", "POST", http.Header{"Cache-Control": {"public, max-age=60"}}, true},
		{"max-age=0", "GET", http.Header{"Cache-Control": {"max-age=0"}}, false},
		{"max-age=0 with s-maxage", "GET", http.Header{"Cache-Control": {"max-age=0, s-maxage=10"}}, false},
		{"validator", "GET", http.Header{"Etag": {`"x"`}}, true},
		{"expires", "HEAD", http.Header{"Expires": {"x"}}, true},
		{"private", "GET", http.Header{"Cache-Control": {"private, max-age=60"}}, false},
		{"no-store on second line", "GET", http.Header{"Cache-Control": {"max-age=60", "No-Store"}}, false},
		{"pragma", "GET", http.Header{"Pragma": {"no-cache"}, "Expires": {"x"}}, false},
		{"public after private", "GET", http.Header{"Cache-Control": {"private", "public", "max-age=5"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.header["Cache-Control"])
			cfg.WriteResponse(tc.header, Response{Method: tc.method, Status: 200, ServerCookie: "a1", Now: now, Request: Request{Server: -1}})
			want := before
			if tc.private {
				want = append(want, "private")
			}
			if got := tc.header["Cache-Control"]; !slices.Equal(got, want) {
				t.Errorf("Cache-Control = %q, want %q", got, want)
			}
		})
	}
	// No cookie, no Cache-Control change.
	h := http.Header{"Cache-Control": {"max-age=60"}}
	cfg.WriteResponse(h, Response{Method: "GET", Status: 200, ServerCookie: "a1", Now: now, Request: Request{Server: 0, Direct: true}})
	if got := h["Cache-Control"]; !slices.Equal(got, []string{"max-age=60"}) {
		t.Errorf("Cache-Control changed without an inserted cookie: %q", got)
	}
}

func TestDynamicCookie(t *testing.T) {
	// Values HAProxy 2.6 inserts with "dynamic-cookie-key mysecret".
	for _, tc := range []struct {
		addr string
		want string
	}{
		{"127.0.0.1:39001", "6c24a714886aba2d"},
		{"127.0.0.1:39002", "c20218eeb20e6dfe"},
	} {
		ap := netip.MustParseAddrPort(tc.addr)
		if got := DynamicCookie("mysecret", ap.Addr(), ap.Port()); got != tc.want {
			t.Errorf("DynamicCookie(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
	a := DynamicCookie("k", netip.MustParseAddr("::1"), 80)
	b := DynamicCookie("k", netip.MustParseAddr("127.0.0.1"), 80)
	if len(a) != 16 || a == b {
		t.Errorf("IPv6 and IPv4 values %q %q", a, b)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{Name: "SRV", Mode: ModeInsert, Indirect: true, Preserve: true}, true},
		{Config{Name: "SRV", Preserve: true, Indirect: true}, true},
		{Config{Name: ""}, false},
		{Config{Name: "a;b"}, false},
		{Config{Name: "SRV", Mode: "bogus"}, false},
		{Config{Name: "SRV", Mode: ModeRewrite, Indirect: true}, false},
		{Config{Name: "SRV", Mode: ModePrefix, Preserve: true}, false},
		{Config{Name: "SRV", Attrs: []string{"a;b"}}, false},
		{Config{Name: "SRV", MaxIdle: -1}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok %v", tc.cfg, err, tc.ok)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	for in, want := range map[string]Duration{`"30m"`: Duration(30 * 60e9), `"1d2h"`: Duration(26 * 3600e9), `5000000000`: Duration(5e9)} {
		var d Duration
		if err := d.UnmarshalJSON([]byte(in)); err != nil || d != want {
			t.Errorf("%s: %v, %v", in, d, err)
		}
	}
	if b, _ := Duration(90e9).MarshalJSON(); string(b) != `"1m30s"` {
		t.Errorf("marshal: %s", b)
	}
	var d Duration
	if d.UnmarshalJSON([]byte(`"x"`)) == nil || d.UnmarshalJSON([]byte(`true`)) == nil {
		t.Error("bad durations accepted")
	}
}
