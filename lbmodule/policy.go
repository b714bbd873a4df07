package lbmodule

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"go.uber.org/zap"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/sched"
)

func init() {
	caddy.RegisterModule(new(HTTPSelection))
}

// HTTPSelection is a reverse_proxy selection policy that balances requests
// over an HAProxy backend: its algorithms, weights, backup servers, admin
// states, maxconn limits and queue, and its retry rules.
//
// The reverse_proxy's upstreams must list the servers' dial addresses in
// the order of Servers; a reverse_proxy that lists no upstreams gets them
// from Servers. Handlers that name the same backend share one
// runtime backend (servers, state, counters), which the stats page and the
// admin API see too, and which survives config reloads.
//
// The policy counts each request on its server from selection until the
// request ends (the request context is done), so leastconn, first and
// maxconn see requests that are being selected, not only those Caddy has
// started to send. When every server is at its maxconn the request waits
// in the backend's queue, up to QueueTimeout, inside Select.
//
// Caddy's view of its upstreams counts too: a server whose upstream is not
// Available (passive health checks, max_requests) is passed over like a
// full one. HAProxy's "retries" maps to load_balancing.retries, which makes
// Caddy call Select again on a failed connection; try_duration should stay
// unset, since queueing already happens here.
type HTTPSelection struct {
	BackendConfig

	// HAProxyHeaders undoes what reverse_proxy adds to requests and
	// responses on its own, since HAProxy adds nothing: the request's Via,
	// X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host get back the
	// values they had when the request reached reverse_proxy, and the
	// response loses reverse_proxy's Via. The values before reverse_proxy
	// and the response's Via are known under the haproxy_frontend handler;
	// without it, the request's forwarding headers are removed and the
	// response keeps its Via.
	HAProxyHeaders bool `json:"haproxy_headers,omitempty"`
	// ForwardFor, with HAProxyHeaders, adds the client's address to the
	// request as HAProxy's "option forwardfor" does.
	ForwardFor *ForwardFor `json:"forward_for,omitempty"`

	backend *Backend
	// varKey names this policy's per-request state in the request vars,
	// where retries find the server of the previous try.
	varKey string
	// key computes request hashes for hash-based algorithms; nil for the
	// others.
	key *sched.Key
	// cookie is the persistence cookie, nil without one.
	cookie   *cookiePersistence
	logger   *zap.Logger
	mismatch sync.Once
}

// CaddyModule returns the Caddy module information.
func (*HTTPSelection) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.reverse_proxy.selection_policies.haproxy",
		New: func() caddy.Module { return new(HTTPSelection) },
	}
}

// Provision builds or joins the runtime backend.
func (p *HTTPSelection) Provision(ctx caddy.Context) error {
	p.logger = ctx.Logger()
	p.varKey = fmt.Sprintf("haproxy.lb.%p", p)
	k, err := sched.NewKey(schedConfig(p.BackendConfig))
	if err != nil {
		return fmt.Errorf("backend %q: %v", p.Backend, err)
	}
	p.key = k
	if p.ForwardFor != nil {
		if err := p.ForwardFor.provision(); err != nil {
			return fmt.Errorf("backend %q: %v", p.Backend, err)
		}
	}
	p.joinHandler(ctx)
	// An unnamed backend is private to this handler.
	if p.backend, err = OpenBackend(p.BackendConfig, p.logger); err != nil {
		return err
	}
	return p.provisionCookie()
}

// Validate checks the configuration.
func (p *HTTPSelection) Validate() error {
	cfg := p.BackendConfig
	return validateBackendConfig(&cfg)
}

// Cleanup releases the runtime backend.
func (p *HTTPSelection) Cleanup() error {
	p.cleanupCookie()
	CloseBackend(p.backend)
	p.backend = nil
	return nil
}

// RuntimeBackend returns the runtime backend the policy balances over.
func (p *HTTPSelection) RuntimeBackend() *Backend { return p.backend }

// Select chooses the upstream for r. On a retry (Caddy calls Select again
// for the same request) it follows HAProxy: without redispatch the request
// retries the same server; with it, it moves to another server when its
// server went down, on the retries RedispatchInterval names, or at once
// when the algorithm is not hash-based and several active servers are up.
// It returns nil when no server can take the request.
func (p *HTTPSelection) Select(pool reverseproxy.UpstreamPool, r *http.Request, w http.ResponseWriter) *reverseproxy.Upstream {
	ctx := r.Context()
	a := p.attemptFor(ctx)
	if p.HAProxyHeaders && !a.headersRestored {
		// Caddy calls Select again on a retry with the same request.
		a.headersRestored = true
		var sent http.Header
		if ex := a.exchange; ex != nil {
			sent = ex.header
			ex.noteResponseVia(w)
		}
		p.restoreRequestHeaders(r, sent)
	}

	a.mu.Lock()
	if a.done || a.failed {
		// HAProxy answers 503 at once when no server is left or the
		// queue timed out; Caddy's retries must not wait again.
		a.mu.Unlock()
		return nil
	}
	prev := a.server
	if prev != nil {
		a.retries++
		if !p.backend.RedispatchNow(a.retries, prev) || p.staysPersistent(ctx, a.retries, prev) {
			a.mu.Unlock()
			p.backend.CountRetry(prev, prev, false)
			if !p.backend.RetryTurnaround(ctx) {
				return nil
			}
			return p.upstreamFor(pool, prev)
		}
		a.server = nil
	}
	a.mu.Unlock()

	if !a.hashed {
		// Once per request: url_param may have to read the body.
		a.req, a.hashed = requestFor(p.key, r), true
	}
	req := a.req
	if prev != nil {
		p.backend.Release(prev)
		req.Avoid = prev.Index()
	}

	a.pool = pool
	// A persistence cookie may name the server; a redispatch ignores it.
	started := time.Now()
	s, err := p.acquire(ctx, r, w, req, a, prev != nil)
	a.pool = nil
	if err != nil {
		a.mu.Lock()
		a.failed = true
		a.mu.Unlock()
		if c := p.logger.Check(zap.DebugLevel, "no server"); c != nil {
			c.Write(zap.String("backend", p.Backend), zap.Error(err))
		}
		return nil
	}
	if prev != nil {
		p.backend.CountRetry(prev, s, true)
	}
	if s == prev && !p.backend.RetryTurnaround(ctx) {
		// The redispatch found no other server: HAProxy waits before it
		// connects to the same one again.
		p.backend.Release(s)
		return nil
	}
	up := p.upstreamFor(pool, s)
	a.mu.Lock()
	if a.done || up == nil {
		// The request ended while it waited, or the server has no upstream.
		a.mu.Unlock()
		p.backend.Release(s)
		return nil
	}
	a.server = s
	a.mu.Unlock()
	a.exchange.notePick(p.backend, s, time.Since(started))
	return up
}

// attemptFor returns the policy's state for the request of ctx, created at
// its first pick. Under a haproxy_frontend handler it lives in the
// request's exchange, which frees its slot when the handler returns, so a
// pick allocates nothing; elsewhere it is allocated and freed when the
// request's context ends.
func (p *HTTPSelection) attemptFor(ctx context.Context) *attempt {
	ex := exchangeOf(ctx)
	if ex != nil {
		a := &ex.attempt
		switch a.policy {
		case p:
			return a
		case nil:
			a.policy, a.backend, a.exchange = p, p.backend, ex
			ex.noteBackend(p.backend)
			return a
		}
		// A second policy on the same request keeps its own state.
	}
	a, _ := caddyhttp.GetVar(ctx, p.varKey).(*attempt)
	if a == nil {
		a = &attempt{policy: p, backend: p.backend, exchange: ex}
		caddyhttp.SetVar(ctx, p.varKey, a)
		context.AfterFunc(ctx, a.finish)
		ex.noteBackend(p.backend)
	}
	return a
}

// upstreamFor returns the pool entry of server s: the one at the server's
// position when its address matches, else the first with its address.
func (p *HTTPSelection) upstreamFor(pool reverseproxy.UpstreamPool, s *Server) *reverseproxy.Upstream {
	if i := s.Index(); i < len(pool) && pool[i].Dial == s.Dial {
		return pool[i]
	}
	p.mismatch.Do(func() {
		p.logger.Warn("reverse_proxy upstreams do not list the backend's servers in order; matching by dial address",
			zap.String("backend", p.Backend))
	})
	for _, u := range pool {
		if u.Dial == s.Dial {
			return u
		}
	}
	return nil
}

// attempt is the policy's state for one request, kept across Caddy's
// retries in the request vars.
type attempt struct {
	// policy is the policy whose state this is; nil while unused.
	policy  *HTTPSelection
	backend *Backend
	// exchange is the request's exchange with the haproxy_frontend
	// handler, nil without one.
	exchange *exchange
	// pool is the upstream pool during a pick, for Vetoed; only the
	// request's goroutine uses it.
	pool reverseproxy.UpstreamPool

	mu sync.Mutex
	// server holds a slot taken for the request, nil when none.
	server *Server
	// retries counts the retries that left a server.
	retries int
	// req is the request's pick input (its key hash), computed once.
	req    sched.Request
	hashed bool
	// done is set when the request has ended; failed when the backend
	// had no server for it.
	done, failed bool
	// headersRestored is set once the request's headers are restored
	// (HAProxyHeaders); only the request's goroutine uses it.
	headersRestored bool
}

// Vetoed excludes servers whose upstream Caddy considers unavailable
// (passive health checks, max_requests).
func (a *attempt) Vetoed(s *Server) bool {
	i := s.Index()
	if i < len(a.pool) && a.pool[i].Dial == s.Dial {
		return !a.pool[i].Available()
	}
	for _, u := range a.pool {
		if u.Dial == s.Dial {
			return !u.Available()
		}
	}
	return true
}

// finish runs when the request ends and frees its slot.
func (a *attempt) finish() {
	a.mu.Lock()
	s := a.server
	a.server, a.done = nil, true
	a.mu.Unlock()
	if s != nil {
		a.backend.Release(s)
	}
}

// Interface guards
var (
	_ caddy.Provisioner     = (*HTTPSelection)(nil)
	_ caddy.Validator       = (*HTTPSelection)(nil)
	_ caddy.CleanerUpper    = (*HTTPSelection)(nil)
	_ reverseproxy.Selector = (*HTTPSelection)(nil)
	_ Vetoer                = (*attempt)(nil)
)
