package sched

import (
	"fmt"
	"testing"
)

// rdpRequest is an RDP connection request carrying a routing cookie.
func rdpRequest(name, value string) string {
	return "\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: " + name + "=" + value + "\r\n\x01\x00\x08\x00\x03\x00\x00\x00"
}

func TestRDPCookieMatchesHAProxy(t *testing.T) {
	needHAProxy(t)
	for _, c := range []struct {
		cfg    Config
		cookie string
	}{
		{Config{Balance: "rdp-cookie"}, "mstshash"},
		{Config{Balance: "rdp-cookie", HashType: "consistent"}, "mstshash"},
		{Config{Balance: "rdp-cookie", Param: "user"}, "user"},
	} {
		t.Run(fmt.Sprintf("%s(%s) %s", c.cfg.Balance, c.cfg.Param, c.cfg.HashType), func(t *testing.T) {
			t.Parallel()
			lines := append(balanceLines(c.cfg), "tcp-request inspect-delay 5s", "tcp-request content accept if RDP_COOKIE")
			opts := weights(1, 2, 1, 3)
			h := startHAProxy(t, haproxyBackend{Lines: lines, ServerOpts: opts, TCP: true})
			pool, servers := poolFromOpts(t, opts, nil)
			alg, err := New(c.cfg, servers, pool)
			if err != nil {
				t.Fatal(err)
			}
			key, _ := NewKey(c.cfg)
			for k := 0; k < 30; k++ {
				payload := rdpRequest(c.cookie, fmt.Sprintf("user%d", k*37))
				want := h.raw(payload)
				in := KeyInput{Payload: []byte(payload)}
				got := fmt.Sprintf("s%d", alg.Pick(key.Request(&in))+1)
				if got != want {
					t.Fatalf("cookie user%d: model picked %s, HAProxy %q", k*37, got, want)
				}
			}
		})
	}
}
