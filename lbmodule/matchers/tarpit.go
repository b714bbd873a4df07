package matchers

import (
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(Tarpit{})
}

// Tarpit holds a request for a while before passing it to the next handler,
// as HAProxy's "http-request tarpit" does before it answers: it slows down
// clients that a rule has recognised as abusive. It is the
// http.handlers.haproxy_tarpit module; the haproxy adapter follows it with
// the error page the rule answers.
//
//	{"handler": "haproxy_tarpit", "delay": "5s"}
//
// A client that closes its connection during the delay is dropped without
// an answer.
type Tarpit struct {
	// Delay is how long the request is held (HAProxy's "timeout tarpit",
	// by default its "timeout connect"). Zero passes the request on at
	// once.
	Delay caddy.Duration `json:"delay,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (Tarpit) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.haproxy_tarpit",
		New: func() caddy.Module { return new(Tarpit) },
	}
}

// ServeHTTP waits for the delay, then calls the next handler.
func (tp Tarpit) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if tp.Delay > 0 {
		timer := time.NewTimer(time.Duration(tp.Delay))
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			// The client is gone: nobody reads an answer.
			panic(http.ErrAbortHandler)
		}
	}
	return next.ServeHTTP(w, r)
}

// Interface guard
var _ caddyhttp.MiddlewareHandler = Tarpit{}
