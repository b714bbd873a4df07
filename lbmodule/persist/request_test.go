package persist

import (
	"net/http"
	"slices"
	"testing"
)

// testServers is a Servers for tests: cookie values and stopped flags.
type testServers struct {
	cookies []string
	stopped []bool
}

func (s *testServers) Len() int              { return len(s.cookies) }
func (s *testServers) Cookie(i int) string   { return s.cookies[i] }
func (s *testServers) Stopped(i int) bool    { return i < len(s.stopped) && s.stopped[i] }
func servers(cookies ...string) *testServers { return &testServers{cookies: cookies} }

// now is a fixed clock for the tests: a multiple of four seconds, as
// HAProxy's dates are.
const now = 1_790_000_000

// date returns the five characters HAProxy writes for Unix time sec.
func date(sec int64) string { return string(encodeDate(nil, sec)) }

func TestReadRequestForwardedHeader(t *testing.T) {
	insertIndirect := &Config{Name: "SRV", Mode: ModeInsert, Indirect: true}
	insert := &Config{Name: "SRV", Mode: ModeInsert}
	prefix := &Config{Name: "APP", Mode: ModePrefix}
	srv := servers("a1", "b2")

	for _, tc := range []struct {
		name   string
		cfg    *Config
		in     []string
		want   []string // nil: no Cookie header left
		server int
	}{
		// Cases checked against HAProxy 2.6.
		{"middle", insertIndirect, []string{"foo=1; SRV=b2; bar=2"}, []string{"foo=1; bar=2"}, 1},
		{"first", insertIndirect, []string{"SRV=b2; bar=2"}, []string{"bar=2"}, 1},
		{"last", insertIndirect, []string{"foo=1; SRV=b2"}, []string{"foo=1"}, 1},
		{"alone", insertIndirect, []string{"SRV=b2"}, nil, 1},
		{"two headers", insertIndirect, []string{"SRV=b2; bar=2", "x=1;SRV=a1"}, []string{"bar=2", "x=1"}, 1},
		{"dollar attribute goes with it", insertIndirect, []string{"foo=1;  SRV=b2 ;$Path=/; bar=2"}, []string{"foo=1; bar=2"}, 1},
		{"commas and blanks", insertIndirect, []string{"a=1 ; SRV=b2 ; c=3, SRV=a1, d=4"}, []string{"a=1; c=3, d=4"}, 1},
		{"unknown value still stripped", insertIndirect, []string{"SRV=zz; a=1"}, []string{"a=1"}, -1},
		{"only dollar left", insertIndirect, []string{"$Version=1; SRV=a1"}, nil, 0},
		{"trailing delimiter kept", insertIndirect, []string{"SRV=a1;"}, nil, 0},
		{"other header untouched", insertIndirect, []string{"foo=1"}, []string{"foo=1"}, -1},
		{"blanks around equal dropped", insertIndirect, []string{"a = 1; b=2"}, []string{"a=1; b=2"}, -1},
		{"not a cookie kept", insertIndirect, []string{"SRV=a1; flag; b=2"}, []string{"flag; b=2"}, 0},
		{"insert without indirect forwards", insert, []string{"foo=1; SRV=b2"}, []string{"foo=1; SRV=b2"}, 1},
		{"prefix stripped", prefix, []string{"APP=b2~abc; x = 1"}, []string{"APP=abc; x=1"}, 1},
		{"prefix without tilde", prefix, []string{"APP=b2; APP=~q"}, []string{"APP=b2; APP=q"}, 1},
		{"name is case-sensitive", insertIndirect, []string{"srv=b2"}, []string{"srv=b2"}, -1},
		{"quoted value with delimiters", insertIndirect, []string{`a="x;y"; SRV=a1`}, []string{`a="x;y"`}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Cookie": slices.Clone(tc.in)}
			got := tc.cfg.ReadRequest(h, srv, now, RequestOptions{})
			if !slices.Equal(h["Cookie"], tc.want) {
				t.Errorf("forwarded Cookie = %q, want %q", h["Cookie"], tc.want)
			}
			if _, ok := h["Cookie"]; ok && tc.want == nil {
				t.Errorf("empty Cookie header left: %q", h["Cookie"])
			}
			if got.Server != tc.server {
				t.Errorf("server = %d, want %d", got.Server, tc.server)
			}
		})
	}
}

func TestReadRequestChoosesServer(t *testing.T) {
	cfg := &Config{Name: "SRV", Mode: ModeInsert}
	for _, tc := range []struct {
		name    string
		servers *testServers
		cookie  string
		opt     RequestOptions
		server  int
		status  RequestStatus
	}{
		{"no cookie", servers("a", "b"), "x=1", RequestOptions{}, -1, RequestNone},
		{"valid", servers("a", "b"), "SRV=b", RequestOptions{}, 1, RequestValid},
		{"unknown", servers("a", "b"), "SRV=c", RequestOptions{}, -1, RequestInvalid},
		{"empty", servers("a", ""), "SRV=", RequestOptions{}, -1, RequestInvalid},
		{"server without cookie never matches", servers("a", ""), "SRV=|" + date(now), RequestOptions{}, -1, RequestInvalid},
		{"stopped", &testServers{[]string{"a", "b"}, []bool{false, true}}, "SRV=b", RequestOptions{}, -1, RequestDown},
		{"stopped with persist", &testServers{[]string{"a", "b"}, []bool{false, true}}, "SRV=b", RequestOptions{PersistDown: true}, 1, RequestDown},
		{"shared value skips stopped", &testServers{[]string{"a", "b", "b"}, []bool{false, true, false}}, "SRV=b", RequestOptions{}, 2, RequestValid},
		{"shared value takes first", servers("b", "b"), "SRV=b", RequestOptions{}, 0, RequestValid},
		{"first occurrence wins", servers("a", "b"), "SRV=b; SRV=a", RequestOptions{}, 1, RequestUnused},
		{"unknown then valid", servers("a", "b"), "SRV=z; SRV=a", RequestOptions{}, 0, RequestValid},
		{"ignored", servers("a", "b"), "SRV=b", RequestOptions{Ignore: true}, -1, RequestUnused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Cookie": {tc.cookie}}
			got := cfg.ReadRequest(h, tc.servers, now, tc.opt)
			if got.Server != tc.server || got.Status != tc.status || got.Direct != (tc.server >= 0) {
				t.Errorf("got server %d status %v direct %v, want server %d status %v", got.Server, got.Status, got.Direct, tc.server, tc.status)
			}
		})
	}
}

func TestReadRequestDates(t *testing.T) {
	srv := servers("a1", "b2")
	idle := &Config{Name: "SRV", Mode: ModeInsert, MaxIdle: Duration(1800e9)}
	life := &Config{Name: "SRV", Mode: ModeInsert, MaxLife: Duration(7200e9)}
	both := &Config{Name: "SRV", Mode: ModeInsert, MaxIdle: Duration(1800e9), MaxLife: Duration(7200e9)}
	none := &Config{Name: "SRV", Mode: ModeInsert}
	for _, tc := range []struct {
		name        string
		cfg         *Config
		value       string
		server      int
		status      RequestStatus
		last, first int64
	}{
		{"fresh", idle, "b2|" + date(now-100), 1, RequestValid, now - 100, 0},
		{"idle too long", idle, "b2|" + date(now-1804), -1, RequestExpired, 0, 0},
		{"idle limit is inclusive", idle, "b2|" + date(now-1800), 1, RequestValid, now - 1800, 0},
		{"a day ahead", idle, "b2|" + date(now+86404), -1, RequestExpired, 0, 0},
		{"less than a day ahead", idle, "b2|" + date(now+86400), 1, RequestValid, now + 86400, 0},
		{"too old", life, "b2|" + date(now) + "|" + date(now-7204), -1, RequestOld, 0, 0},
		{"old wins over idle", both, "b2|" + date(now-1804) + "|" + date(now-7204), -1, RequestOld, 0, 0},
		{"young", both, "b2|" + date(now-4) + "|" + date(now-600), 1, RequestValid, now - 4, now - 600},
		{"dates kept without limits", none, "b2|" + date(now-100000) + "|" + date(now-200000), 1, RequestValid, now - 100000, now - 200000},
		{"short date ignored", idle, "b2|AAA", 1, RequestValid, 0, 0},
		{"bad date ignored", idle, "b2|AA!AA", 1, RequestValid, 0, 0},
		{"zero date ignored", idle, "b2|AAAAA", 1, RequestValid, 0, 0},
		{"first needs five characters", life, "b2|" + date(now) + "|AAAB", 1, RequestValid, now, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Cookie": {"SRV=" + tc.value}}
			got := tc.cfg.ReadRequest(h, srv, now, RequestOptions{})
			if got.Server != tc.server || got.Status != tc.status || got.Last != tc.last || got.First != tc.first {
				t.Errorf("got server %d status %v last %d first %d, want %d %v %d %d",
					got.Server, got.Status, got.Last-now, got.First-now, tc.server, tc.status, tc.last-now, tc.first-now)
			}
		})
	}
}

func TestDateEncoding(t *testing.T) {
	// HAProxy's example: the cookie "SRV=a1|awemQ|awemQ".
	sec := decodeDate("awemQ")
	if sec == 0 || sec%4 != 0 {
		t.Fatalf("decodeDate(awemQ) = %d", sec)
	}
	if got := date(sec); got != "awemQ" {
		t.Errorf("round trip: %q", got)
	}
	// Dates are rounded up to four seconds.
	for d := int64(1); d <= 4; d++ {
		if got := decodeDate(date(sec - 4 + d)); got != sec {
			t.Errorf("date(%d) decodes to %d, want %d", sec-4+d, got, sec)
		}
	}
	for _, bad := range []string{"", "AAAA", "AA AA", "AAAA=", "AAAAA"} {
		if got := decodeDate(bad); got != 0 {
			t.Errorf("decodeDate(%q) = %d, want 0", bad, got)
		}
	}
}

func TestReadRequestLeavesUnrelatedHeadersAlone(t *testing.T) {
	cfg := &Config{Name: "SRV", Mode: ModeInsert, Indirect: true}
	in := []string{"a=1; b=2"}
	h := http.Header{"Cookie": in}
	srv := servers("x")
	cfg.ReadRequest(h, srv, now, RequestOptions{})
	if &h["Cookie"][0] != &in[0] {
		t.Error("the header slice was replaced although nothing changed")
	}
	allocs := testing.AllocsPerRun(100, func() {
		cfg.ReadRequest(h, srv, now, RequestOptions{})
	})
	if allocs > 0 {
		t.Errorf("%v allocations for a request without the cookie", allocs)
	}
}
