package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// answersMatchHAProxy runs the same exchanges (run) against HAProxy, then
// against caddy, on one configuration, and reports every answer in which
// caddy differs, named by name(i). It returns HAProxy's answers, so that
// the test can check they exercise what it compares.
func answersMatchHAProxy(t *testing.T, cfg string, listeners []string, run func() []string, name func(i int) string) []string {
	t.Helper()
	haproxy := startHAProxy(t, cfg, listeners...)
	want := run()
	haproxy.stop()
	startCaddy(t, cfg)
	got := run()
	for i := range want {
		if got[i] == want[i] {
			continue
		}
		if strings.Contains(got[i]+want[i], "\n") {
			t.Errorf("%s:\ncaddy:\n%s\nhaproxy:\n%s", name(i), got[i], want[i])
		} else {
			t.Errorf("%s: caddy %q, haproxy %q", name(i), got[i], want[i])
		}
	}
	return want
}

// authOutcome is the status, the challenge and the body of an answer to a
// request with credentials. The body of a 401 is left out: Caddy's
// authentication handler sends none; status and challenge must agree.
func authOutcome(resp *http.Response, body string) string {
	if resp.StatusCode == http.StatusUnauthorized {
		body = ""
	}
	return fmt.Sprintf("%d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
}
