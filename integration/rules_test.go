package integration

import (
	"testing"
	"time"
)

// timedOutcome is a response summarised by outcome, with how long it took.
type timedOutcome struct {
	text    string
	elapsed time.Duration
}

// sendTimed sends each request on its own connection and times it.
func sendTimed(t *testing.T, reqs []addrRequest) []timedOutcome {
	t.Helper()
	out := make([]timedOutcome, len(reqs))
	for i, q := range reqs {
		start := time.Now()
		resp, body := q.r.send(t, q.addr)
		out[i] = timedOutcome{outcome(resp, body), time.Since(start)}
	}
	return out
}

// addrRequest is a request and the listener it goes to.
type addrRequest struct {
	addr string
	r    rawRequest
}

// TestTarpitMatchesHAProxy checks that caddy holds the requests HAProxy
// tarpits for the same time (the frontend's timeout tarpit, the backend's
// timeout connect, none for a frontend without timeout tarpit) and answers
// them the same way, including rules matching case variants.
func TestTarpitMatchesHAProxy(t *testing.T) {
	origin := echoOrigin(t)
	port, barePort := freePort(t), freePort(t)
	cfg := writeConfig(t, "rules_tarpit.cfg", map[string]any{"Port": port, "BarePort": barePort, "Origin": origin})
	addr, bare := loopback(port), loopback(barePort)
	const frontendDelay, backendDelay = 300 * time.Millisecond, 600 * time.Millisecond
	reqs := []struct {
		addrRequest
		delay time.Duration
	}{
		{addrRequest{addr, rawRequest{method: "GET", target: "/t500"}}, frontendDelay},
		{addrRequest{addr, rawRequest{method: "GET", target: "/t403/x"}}, frontendDelay},
		{addrRequest{addr, rawRequest{method: "GET", target: "/t429"}}, frontendDelay},
		{addrRequest{addr, rawRequest{method: "GET", target: "/x", headers: []string{"User-Agent: SQLMap/1.5"}}}, frontendDelay},
		{addrRequest{addr, rawRequest{method: "GET", target: "/bt"}}, backendDelay},
		{addrRequest{addr, rawRequest{method: "GET", target: "/x"}}, 0},
		{addrRequest{addr, rawRequest{method: "GET", target: "/T500"}}, 0},
		{addrRequest{bare, rawRequest{method: "GET", target: "/t500"}}, 0},
		{addrRequest{bare, rawRequest{method: "GET", target: "/bt"}}, backendDelay},
	}
	var plain []addrRequest
	for _, q := range reqs {
		plain = append(plain, q.addrRequest)
	}
	check := func(name string, got []timedOutcome) {
		for i, q := range reqs {
			// A held request takes at least the delay and not much more;
			// the others answer well within the shortest delay.
			e := got[i].elapsed
			if e < q.delay || e > q.delay+frontendDelay*2/3 {
				t.Errorf("%s: %s to %s took %v, want %v", name, q.r, q.addr, e, q.delay)
			}
		}
	}
	haproxy := startHAProxy(t, cfg, addr, bare)
	want := sendTimed(t, plain)
	haproxy.stop()
	check("haproxy", want)

	startCaddy(t, cfg)
	got := sendTimed(t, plain)
	check("caddy", got)
	for i, q := range reqs {
		if got[i].text != want[i].text {
			t.Errorf("%s to %s:\ncaddy:\n%s\nhaproxy:\n%s", q.r, q.addr, got[i].text, want[i].text)
		}
	}
	if want[0].text == want[5].text {
		t.Errorf("the tarpit did not answer differently from the backend: %q", want[0].text)
	}
}
