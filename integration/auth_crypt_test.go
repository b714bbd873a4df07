package integration

import (
	"encoding/base64"
	"testing"
)

// TestCryptUserlistMatchesHAProxy sends the same credentials to HAProxy
// and caddy in front of a userlist of SHA-512, SHA-256, MD5 crypt and bcrypt
// hashes: right and wrong passwords, unknown users and no credentials get
// the same status and challenge.
func TestCryptUserlistMatchesHAProxy(t *testing.T) {
	o := startOrigin(t, "app")
	port, groupPort := freePort(t), freePort(t)
	cfg := writeConfig(t, "auth_crypt.cfg", map[string]any{"Port": port, "GroupPort": groupPort, "Origin": o.Addr()})
	addr, groupAddr := loopback(port), loopback(groupPort)
	creds := [][]string{nil}
	for _, c := range []string{
		"ann:Hello world!", "ann:hello world!", "ben:pw", "ben:pW", "cat:password", "cat:passwore",
		"dan:hunter2", "dan:hunter", "eve:pw", "ann:", ":pw",
	} {
		creds = append(creds, []string{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(c))})
	}
	var reqs []addrRequest
	for _, hs := range creds {
		reqs = append(reqs, addrRequest{addr, rawRequest{method: "GET", target: "/", headers: hs}})
		for _, path := range []string{"/admin", "/private", "/"} {
			reqs = append(reqs, addrRequest{groupAddr, rawRequest{method: "GET", target: path, headers: hs}})
		}
	}
	want := requestsMatchHAProxy(t, cfg, []string{addr, groupAddr}, reqs, authOutcome)
	statuses := map[string]bool{}
	for _, w := range want {
		statuses[w[:3]] = true
	}
	// The requests must have met a challenge, a denial and success; ann's
	// right password (the second set of requests) passes the first frontend.
	if !statuses["401"] || !statuses["403"] || !statuses["200"] || want[4] != `200 "" app` || want[0] == want[4] {
		t.Errorf("haproxy did not behave as the test expects: %q", want)
	}
}
