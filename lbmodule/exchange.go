package lbmodule

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/transport"
)

// exchangeVar names the request variable holding the request's exchange,
// which the haproxy transport reports to.
const exchangeVar = transport.ObserverVar

// DeniedVar names the request variable a deny rule sets to the name of its
// section, so that the request counts as denied (dreq) on the frontend and,
// for a backend's rule, on the backend.
const DeniedVar = "haproxy_denied"

// exchange follows one HTTP request through its frontend, backend and
// server, so that its outcome is counted on each of them once: the
// haproxy_frontend handler starts and ends it, the selection policy
// records the backend and the server it chose.
type exchange struct {
	frontend *Frontend
	start    time.Time
	// attempt is the selection policy's state for the request, kept
	// here to spare an allocation and freed by the handler at the end.
	attempt attempt

	mu      sync.Mutex
	backend *Backend
	server  *Server
	// picked is when the server was chosen; queued how long the pick
	// waited in a queue.
	picked time.Time
	queued time.Duration
	// firstByte is when the response status was written.
	firstByte time.Time
	// connectStart and connectTime time the connect to the server, and
	// connected is set when one succeeded; sent is when the request could
	// start going to the server (the round trip's start, or the end of
	// its connect), gotResponse when the response header arrived. The
	// haproxy transport reports them.
	connectStart      time.Time
	connectTime       time.Duration
	connected         bool
	sent, gotResponse time.Time
	// status is the response status counted so far, 0 before the end.
	status int
	// serverAnswered is set when the server's response was counted.
	serverAnswered bool

	// header is the request's header map as the frontend received it;
	// the rules before reverse_proxy change it in place.
	header http.Header
	// stripVia is set when reverse_proxy's response Via is to be removed,
	// viaAt is where it will be among the response's Via values. Only
	// the request's goroutine uses them.
	stripVia bool
	viaAt    int
}

// exchangeOf returns the request's exchange, or nil outside a
// haproxy_frontend handler.
func exchangeOf(ctx context.Context) *exchange {
	ex, _ := caddyhttp.GetVar(ctx, exchangeVar).(*exchange)
	return ex
}

// RoundTripStart records that the transport starts sending the request.
func (ex *exchange) RoundTripStart() {
	ex.mu.Lock()
	ex.sent = time.Now()
	ex.mu.Unlock()
}

// ConnectStart records the start of a connect to the server.
func (ex *exchange) ConnectStart() {
	ex.mu.Lock()
	ex.connectStart = time.Now()
	ex.mu.Unlock()
}

// ConnectDone records the end of a connect; the request can be sent from
// then on.
func (ex *exchange) ConnectDone(err error) {
	if err != nil {
		return
	}
	now := time.Now()
	ex.mu.Lock()
	ex.connectTime, ex.connected, ex.sent = now.Sub(ex.connectStart), true, now
	ex.mu.Unlock()
}

// GotResponse records the arrival of the response header.
func (ex *exchange) GotResponse() {
	ex.mu.Lock()
	ex.gotResponse = time.Now()
	ex.mu.Unlock()
}

// notePick records the server the policy chose for the request and how
// long the choice waited in a queue.
func (ex *exchange) notePick(b *Backend, s *Server, queued time.Duration) {
	if ex == nil {
		return
	}
	ex.mu.Lock()
	ex.backend, ex.server, ex.queued, ex.picked = b, s, queued, time.Now()
	ex.mu.Unlock()
}

// noteBackend records the backend a request reached, with no server yet.
func (ex *exchange) noteBackend(b *Backend) {
	if ex == nil {
		return
	}
	ex.mu.Lock()
	if ex.backend == nil {
		ex.backend = b
	}
	ex.mu.Unlock()
}

// objects returns the counters the exchange counts on: the frontend's,
// and the backend's and server's once known.
func (ex *exchange) objects() (fe, be, srv *Counters) {
	fe = &ex.frontend.counters
	if ex.backend != nil {
		be = ex.backend.counters
	}
	if ex.server != nil {
		srv = &ex.server.state.counters
	}
	return fe, be, srv
}

// end counts the request's outcome: its status class, bytes and times on
// the frontend, backend and server, and the kind of failure err was. An
// error page written later by the server's error routes corrects the
// status with recount.
func (ex *exchange) end(status int, bytesIn, bytesOut int64, err error, clientGone bool, denied string) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.status = status
	now := time.Now()
	fe, be, srv := ex.objects()
	fe.CountResponse(status)
	if denied != "" {
		fe.DeniedRequests.Add(1)
		if b, ok := LookupBackend(denied); ok && denied != ex.frontend.name {
			b.counters.DeniedRequests.Add(1)
		}
	}
	if be == nil {
		return
	}
	for _, c := range []*Counters{be, srv} {
		if c != nil {
			c.BytesIn.Add(bytesIn)
			c.BytesOut.Add(bytesOut)
		}
	}
	be.Requests.Add(1)
	be.CountResponse(status)
	if srv == nil {
		return
	}
	// A server's responses are those it sent.
	if err == nil || !ex.firstByte.IsZero() {
		ex.serverAnswered = true
		srv.Requests.Add(1)
		srv.CountResponse(status)
	}
	switch {
	case err == nil:
	case clientGone:
		be.ClientAborts.Add(1)
		srv.ClientAborts.Add(1)
	case isDialError(err):
		be.ConnectErrors.Add(1)
		srv.ConnectErrors.Add(1)
	default:
		be.ResponseErrors.Add(1)
		srv.ResponseErrors.Add(1)
		if ex.firstByte.After(ex.picked) {
			// The response had started: the server cut it short.
			be.ServerAborts.Add(1)
			srv.ServerAborts.Add(1)
		}
	}
	for _, c := range []*Counters{be, srv} {
		switch {
		case ex.connected:
			c.NewConnections.Add(1)
		case !ex.sent.IsZero():
			c.ReusedConnections.Add(1)
		}
		c.QueueTime.Add(ex.queued)
		if err == nil {
			// HAProxy's times are those of successful exchanges; a
			// reused connection took no time to connect.
			c.ConnectTime.Add(ex.connectTime)
			if !ex.gotResponse.IsZero() && ex.gotResponse.After(ex.sent) {
				c.ResponseTime.Add(ex.gotResponse.Sub(ex.sent))
			}
		}
		c.TotalTime.Add(now.Sub(ex.start))
	}
}

// recount replaces the counted status with the one an error page wrote,
// and adds its bytes.
func (ex *exchange) recount(status int, bytesOut int64) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	fe, be, srv := ex.objects()
	if !ex.serverAnswered {
		srv = nil
	}
	for _, c := range []*Counters{fe, be, srv} {
		if c == nil {
			continue
		}
		if c != fe {
			c.BytesOut.Add(bytesOut)
		}
		if status != ex.status {
			c.Responses[responseClass(ex.status)].Add(-1)
			c.CountResponse(status)
		}
	}
	ex.status = status
}

// errorStatus is the status Caddy answers a handler error with.
func errorStatus(err error) int {
	var he caddyhttp.HandlerError
	if errors.As(err, &he) && he.StatusCode != 0 {
		return he.StatusCode
	}
	return http.StatusInternalServerError
}

// isDialError reports whether err is a failed connection to the server.
// It is apart so that its target escapes only when there is an error.
func isDialError(err error) bool {
	var dialErr reverseproxy.DialError
	return errors.As(err, &dialErr)
}

// Interface guards
var _ transport.Observer = (*exchange)(nil)
