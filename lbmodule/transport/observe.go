package transport

import (
	"context"
	"net"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// ObserverVar names the Caddy request variable holding the request's
// Observer, if any.
const ObserverVar = "haproxy.exchange"

// Observer follows one request to its server, for the statistics:
// HAProxy's connect time is the TCP connect's, its response time runs from
// when the request can be sent (the connection is up) to the response
// header. Calls may come from the transport's own goroutines.
type Observer interface {
	// RoundTripStart is called when the transport starts sending the
	// request, on a pooled connection or once it has a new one.
	RoundTripStart()
	// ConnectStart and ConnectDone bracket a TCP connect made for the
	// request. A connect the transport started for one request may serve
	// another that was waiting too; the first one's observer hears of it.
	ConnectStart()
	ConnectDone(err error)
	// GotResponse is called when the response header has arrived.
	GotResponse()
}

// observerOf returns the Observer in the Caddy vars of ctx, or nil.
func observerOf(ctx context.Context) Observer {
	obs, _ := caddyhttp.GetVar(ctx, ObserverVar).(Observer)
	return obs
}

// dialFunc is http.Transport's DialContext.
type dialFunc = func(ctx context.Context, network, address string) (net.Conn, error)

// observeDials wraps dial so that the observer of the request a connect is
// made for hears of it. net/http dials with a context that keeps the
// request's values.
func observeDials(dial dialFunc) dialFunc {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		obs := observerOf(ctx)
		if obs == nil {
			return dial(ctx, network, address)
		}
		obs.ConnectStart()
		c, err := dial(ctx, network, address)
		obs.ConnectDone(err)
		return c, err
	}
}
