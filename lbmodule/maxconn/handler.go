package maxconn

import (
	"context"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/mholt/caddy-l4/layer4"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler applies connection limits to a layer4 server, whose listeners
// take no listener wrappers (caddy-l4 v0.1.2): it waits until every limit
// has a free slot, then runs its routes, and gives the slot back when they
// are done with the connection. It shares its limits with the
// haproxy_maxconn listener wrapper, so a "global" limit counts HTTP and
// layer4 connections together.
//
// Unlike the listener wrapper, the connections that wait have been accepted:
// they wait in Caddy rather than in the kernel's backlog. Nothing is read
// from them and no server is contacted until they get a slot, so a client
// sees what it sees with HAProxy: a connection that is not served yet.
//
// JSON, as the only handler of a server's only route:
//
//	{
//	  "handler": "haproxy_maxconn",
//	  "limits": [{"name": "frontend/db", "max": 100}],
//	  "matching_timeout": "5s",
//	  "routes": [ ...the server's routes... ]
//	}
type Handler struct {
	// Limits are the limits every connection counts against.
	Limits []Limit `json:"limits,omitempty"`
	// Routes handle the connection once it has its slots.
	Routes layer4.RouteList `json:"routes,omitempty"`
	// MatchingTimeout bounds how long the routes' matchers wait for data,
	// counted from the moment the connection got its slots (caddy-l4's
	// default, 3s, when zero).
	MatchingTimeout caddy.Duration `json:"matching_timeout,omitempty"`

	limits []*limit
	ctx    context.Context
	logger *zap.Logger
	stop   func() bool
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "layer4.handlers.haproxy_maxconn",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision loads the limits and the routes.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if h.MatchingTimeout <= 0 {
		h.MatchingTimeout = caddy.Duration(layer4.MatchingTimeoutDefault)
	}
	var err error
	if h.limits, err = loadLimits(h.Limits); err != nil {
		return err
	}
	// Connections still waiting when the config is unloaded give up.
	h.ctx = ctx
	h.stop = context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		cond.Broadcast()
	})
	return h.Routes.Provision(ctx)
}

// Cleanup releases the limits.
func (h *Handler) Cleanup() error {
	if h.stop != nil {
		h.stop()
	}
	unloadLimits(h.limits)
	return nil
}

// Handle waits for the slots, then runs the routes.
func (h *Handler) Handle(cx *layer4.Connection, next layer4.Handler) error {
	if !acquire(h.limits, func() bool { return h.ctx.Err() != nil }) {
		return nil
	}
	defer release(h.limits)
	return h.Routes.Compile(h.logger, time.Duration(h.MatchingTimeout), next).Handle(cx)
}

// Interface guards
var (
	_ caddy.Provisioner  = (*Handler)(nil)
	_ caddy.CleanerUpper = (*Handler)(nil)
	_ layer4.NextHandler = (*Handler)(nil)
)
