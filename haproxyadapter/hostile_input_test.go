package haproxyadapter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

const hostileBase = "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n" +
	"listen web\n  bind 127.0.0.1:18999\n  server s1 127.0.0.1:80\n"

// TestHostileInput feeds the adapter inputs built to hurt a parser: each
// must give a clear error naming file:line, or a config, never a panic,
// and in bounded time (the test's own timeout) and memory.
func TestHostileInput(t *testing.T) {
	repeat := func(s string, n int) string { return strings.Repeat(s, n) }
	lineLen, nFrontends := 20<<20, 5000
	if raceEnabled {
		lineLen, nFrontends = 2<<20, 1000
	}
	var acls, frontends strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&acls, "  acl a%d path /x%d\n", i, i)
	}
	for i := range nFrontends {
		fmt.Fprintf(&frontends, "frontend f%d\n  bind 127.0.0.1:%d\n  default_backend b\n", i, 20000+i)
	}
	cases := []struct {
		name string
		cfg  string
		// err is a regexp the error must match; empty: must adapt.
		err string
	}{
		{"NUL byte", hostileBase + "  http-request deny if { path /a\x00b }\n", `^haproxy\.cfg:9: stray NUL character`},
		{"invalid UTF-8", hostileBase + "  http-request deny if { path /\xff\xfe }\n", ""},
		{"10,000 nested .if", repeat(".if 1\n", 10000) + hostileBase + repeat(".endif\n", 10000), `^haproxy\.cfg:100: too many nested '\.if'`},
		{"100,000 nested parentheses", ".if " + repeat("(", 100000) + "1" + repeat(")", 100000) + "\n.endif\n" + hostileBase, `^haproxy\.cfg:1: too many nested parentheses`},
		{"a line of 20 MiB", hostileBase + "  http-request set-header X-A " + repeat("a", lineLen) + "\n", ""},
		{"100,000 ACLs", hostileBase + acls.String() + "  http-request deny if a1 || a99999\n", ""},
		{"5,000 frontends", "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n" + frontends.String() + "backend b\n  server s 127.0.0.1:80\n", ""},
		{"no final newline", hostileBase + "  server s2 127.0.0.1:81", `^haproxy\.cfg:9: missing LF on last line`},
		{"only garbage", "\x01\x02\x03 \xff\n", `^haproxy\.cfg:1: `},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			adaptHostile(t, []byte(tc.cfg), tc.err)
		})
	}
}

// TestHundredThousandServers adapts a backend of 100,000 servers (20,000
// under the race detector) and reports the time and memory it took.
// HAProxy 2.6 needs minutes to check the same file (haproxy -c).
func TestHundredThousandServers(t *testing.T) {
	n := 100000
	if raceEnabled {
		n = 20000
	}
	var cfg bytes.Buffer
	cfg.WriteString("defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nlisten web\n  bind 127.0.0.1:18999\n  balance roundrobin\n")
	for i := range n {
		fmt.Fprintf(&cfg, "  server s%d 10.%d.%d.%d:80 weight %d\n", i, i>>16&255, i>>8&255, i&255, i%256+1)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out := adaptHostile(t, cfg.Bytes(), "")
	runtime.ReadMemStats(&after)
	var parsed struct {
		Apps struct {
			HTTP json.RawMessage `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &parsed); err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(parsed.Apps.HTTP, []byte(`"dial"`)); got < n {
		t.Fatalf("%d dial addresses in the output, want at least %d", got, n)
	}
	t.Logf("%d servers: %d KiB of input, %d KiB of JSON, %d MiB allocated", n, cfg.Len()>>10, len(out)>>10, (after.TotalAlloc-before.TotalAlloc)>>20)
}

// adaptHostile adapts cfg and checks the outcome: an error matching
// errPattern, or (errPattern empty) valid JSON, which it returns.
func adaptHostile(t *testing.T, cfg []byte, errPattern string) []byte {
	t.Helper()
	out, _, err := Adapter{}.Adapt(cfg, nil)
	if errPattern == "" {
		if err != nil {
			t.Fatalf("adapting failed: %.300v", err)
		}
		if !json.Valid(out) {
			t.Fatal("the output is not valid JSON")
		}
		return out
	}
	if err == nil {
		t.Fatalf("adapted; want an error matching %q", errPattern)
	}
	if !regexp.MustCompile(errPattern).MatchString(err.Error()) {
		t.Fatalf("error %.300q does not match %q", err, errPattern)
	}
	return nil
}
