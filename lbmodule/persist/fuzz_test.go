package persist

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzReadRequest feeds arbitrary Cookie headers to every mode: no panic,
// a server index in range, and in insert+indirect mode no persistence
// cookie left for the server.
func FuzzReadRequest(f *testing.F) {
	for _, seed := range []string{
		"", ";", ";;", "SRV=a1", "a=1; SRV=b2; c=3", "SRV=b2|AAAAB|AAAAC", `SRV="x;y"; a=1`,
		"$Version=1; SRV=a1; $Path=/", "SRV = a1 , b = 2", "SRV=~x", "SRV=a1~x|y", "\tSRV=a1\t;",
	} {
		f.Add(seed)
	}
	srv := servers("a1", "b2", "")
	modes := []*Config{
		{Name: "SRV", Mode: ModeInsert, Indirect: true, MaxIdle: Duration(60e9), MaxLife: Duration(3600e9)},
		{Name: "SRV", Mode: ModePrefix},
		{Name: "SRV", Mode: ModeRewrite},
		{Name: "SRV"},
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, c := range modes {
			h := http.Header{"Cookie": {v, v}}
			r := c.ReadRequest(h, srv, now, RequestOptions{})
			if r.Server < -1 || r.Server >= srv.Len() || r.Direct != (r.Server >= 0) {
				t.Fatalf("%+v: server %d direct %v", c, r.Server, r.Direct)
			}
			if c.Indirect {
				for _, out := range h["Cookie"] {
					it := scanCookieItem(out, 0, true)
					if out != "" && out[it.nameStart:it.nameEnd] == "SRV" && it.hasEq && !strings.Contains(v, `"`) {
						t.Fatalf("%q forwarded as %q: the cookie is still there", v, out)
					}
				}
			}
			// A second pass over the forwarded header changes nothing
			// more in insert+indirect mode: the cookie is gone.
			if c.Indirect {
				again := http.Header{"Cookie": append([]string(nil), h["Cookie"]...)}
				c.ReadRequest(again, srv, now, RequestOptions{})
				if strings.Join(again["Cookie"], "\n") != strings.Join(h["Cookie"], "\n") {
					t.Fatalf("%q: forwarded %q, then %q", v, h["Cookie"], again["Cookie"])
				}
			}
		}
	})
}
