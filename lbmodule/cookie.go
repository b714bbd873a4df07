package lbmodule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/persist"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/sched"
)

func init() {
	caddy.RegisterModule(CookieHandler{})
}

// cookieVarKey names the request's persistence exchange in the request
// vars, where the selection policy and the CookieHandler meet.
const cookieVarKey = "haproxy.cookie"

// cookiePersistence is the runtime form of a backend's cookie line, built
// by the selection policy.
type cookiePersistence struct {
	cfg     *persist.Config
	backend *Backend
	// cookies are the servers' cookie values by index: the configured
	// ones, or computed ones for a dynamic cookie.
	cookies []string
	// inserted are the Set-Cookie values inserted for each server, built
	// once when they carry no dates; nil otherwise.
	inserted []string
	// persistDown is "option persist".
	persistDown bool
	redispatch  bool
	slot        *cookieSlot
	logger      *zap.Logger
	// now is the clock; tests replace it.
	now func() time.Time
	// unhooked is set once a request arrived without the CookieHandler.
	unhooked atomic.Bool
}

// provisionCookie builds the policy's persistence from its configuration,
// after the backend is attached.
func (p *HTTPSelection) provisionCookie() error {
	if p.Cookie == nil {
		return nil
	}
	cfg := *p.Cookie
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("backend %q: %v", p.Backend, err)
	}
	pc := &cookiePersistence{
		cfg:         &cfg,
		backend:     p.backend,
		cookies:     make([]string, len(p.backend.servers)),
		persistDown: p.Persist,
		redispatch:  p.Redispatch,
		logger:      p.logger,
		now:         time.Now,
	}
	for i, s := range p.backend.servers {
		pc.cookies[i] = s.Cookie
		if s.Cookie == "" && cfg.Dynamic && cfg.DynamicKey != "" {
			v, err := dynamicCookie(cfg.DynamicKey, s.Dial)
			if err != nil {
				p.logger.Warn("server gets no dynamic cookie", zap.String("backend", p.Backend),
					zap.String("server", s.Name), zap.Error(err))
				continue
			}
			pc.cookies[i] = v
		}
	}
	if _, static := cfg.InsertedCookie(""); static {
		pc.inserted = make([]string, len(pc.cookies))
		for i, c := range pc.cookies {
			pc.inserted[i], _ = cfg.InsertedCookie(c)
		}
	}
	pc.slot = attachCookieSlot(p.Backend, pc)
	p.cookie = pc
	return nil
}

// cleanupCookie releases the policy's persistence state.
func (p *HTTPSelection) cleanupCookie() {
	if p.cookie != nil {
		detachCookieSlot(p.Backend)
		p.cookie = nil
	}
}

// dynamicCookie computes a dynamic cookie value from a dial address, which
// must be an IP address and a port.
func dynamicCookie(key, dial string) (string, error) {
	if i := strings.IndexByte(dial, '/'); i >= 0 {
		dial = dial[i+1:] // "tcp/1.2.3.4:80"
	}
	ap, err := netip.ParseAddrPort(dial)
	if err != nil {
		return "", fmt.Errorf("dynamic cookies need an IP address and a port, not %q", dial)
	}
	return persist.DynamicCookie(key, ap.Addr(), ap.Port()), nil
}

// cookieExchange is one request's persistence state. The CookieHandler
// creates it before the proxy runs, so that it can apply the response
// side; without the handler the policy creates it and can only insert the
// cookie.
type cookieExchange struct {
	hooked bool
	pc     *cookiePersistence
	req    persist.Request
	// server is the server of the latest pick; nil when none.
	server *Server
	// inserted is the Set-Cookie value the policy added to the response
	// itself (no CookieHandler), so that a retry replaces it.
	inserted string
	// servers is the request side's view of the backend for this
	// request, kept here to spare an allocation.
	servers cookieServers
}

// cookieServers is the persist.Servers view of a backend during one pick:
// a server is stopped when down, in maintenance, or vetoed by Caddy's own
// health state for its upstream.
type cookieServers struct {
	pc   *cookiePersistence
	veto Vetoer
}

func (v *cookieServers) Len() int            { return len(v.pc.cookies) }
func (v *cookieServers) Cookie(i int) string { return v.pc.cookies[i] }
func (v *cookieServers) Stopped(i int) bool {
	s := v.pc.backend.servers[i]
	return stopped(s) || (v.veto != nil && v.veto.Vetoed(s))
}

// stopped is HAProxy's STOPPED state: down, or in maintenance.
func stopped(s *Server) bool { return !s.Up() || s.AdminState() == AdminMaint }

// exchangeFor returns the request's exchange, creating an unhooked one
// when the CookieHandler did not run.
func (pc *cookiePersistence) exchangeFor(ctx context.Context) *cookieExchange {
	x, _ := caddyhttp.GetVar(ctx, cookieVarKey).(*cookieExchange)
	if x == nil {
		x = new(cookieExchange)
		caddyhttp.SetVar(ctx, cookieVarKey, x)
		if !pc.unhooked.Swap(true) && pc.cfg.Mode != persist.ModePassive {
			pc.logger.Warn("the haproxy_cookie handler does not run before reverse_proxy: "+
				"server cookies are not rewritten and nocache and preserve are not applied",
				zap.String("backend", pc.backend.Name()), zap.String("cookie", pc.cfg.Name))
		}
	}
	return x
}

// acquire takes a server for the request: the one its persistence cookie
// names when there is one and it may be used, else one from the load
// balancer. retry tells a redispatched retry, which never follows the
// cookie. Without a cookie configuration it is Backend.Acquire.
func (p *HTTPSelection) acquire(ctx context.Context, r *http.Request, w http.ResponseWriter, req sched.Request, veto Vetoer, retry bool) (*Server, error) {
	if !retry {
		// A use-server rule comes before persistence and load balancing;
		// a redispatch leaves it.
		if s := p.forcedServer(ctx); s != nil {
			return p.backend.acquireServer(ctx, s, req, veto)
		}
	}
	pc := p.cookie
	if pc == nil {
		return p.backend.Acquire(ctx, req, veto)
	}
	x := pc.exchangeFor(ctx)
	x.pc = pc
	if retry {
		// A redispatch leaves the server the cookie named.
		x.req.Direct = false
	} else {
		x.servers = cookieServers{pc: pc, veto: veto}
		x.req = pc.cfg.ReadRequest(r.Header, &x.servers, pc.now().Unix(), persist.RequestOptions{PersistDown: pc.persistDown})
		x.servers.veto = nil
		pc.slot.counters.requests[x.req.Status].Add(1)
	}
	if x.req.Direct && !retry {
		s := p.backend.servers[x.req.Server]
		got, err := p.backend.acquireServer(ctx, s, req, veto)
		switch {
		case err == nil:
			if got != s {
				// Its queue sent the request back to the load
				// balancer (the server left the pool).
				x.req.Direct = false
			}
			x.server = got
			pc.insertUnhooked(x, r, w)
			return got, nil
		case errors.Is(err, ErrQueueFull) && pc.redispatch:
			// HAProxy drops the persistence of a request whose server
			// queue is full when it may redispatch.
			x.req.Direct = false
		default:
			x.server = nil
			return nil, err
		}
	}
	s, err := p.backend.Acquire(ctx, req, veto)
	x.server = s
	if err == nil {
		pc.insertUnhooked(x, r, w)
	}
	return s, err
}

// staysPersistent reports whether a retry of a request that its cookie
// sent to prev must stay there although RedispatchNow would move it:
// HAProxy moves such a request only when its server stopped running or on
// the retries the redispatch interval names, never merely because other
// servers are up (that rule is for load-balanced requests).
func (p *HTTPSelection) staysPersistent(ctx context.Context, n int, prev *Server) bool {
	if p.cookie == nil || !p.Redispatch || stopped(prev) {
		return false
	}
	x, _ := caddyhttp.GetVar(ctx, cookieVarKey).(*cookieExchange)
	if x == nil || x.server != prev || !x.req.Direct {
		return false
	}
	return !p.backend.RedispatchRetry(n)
}

// insertUnhooked sets the cookie from the policy when no CookieHandler will
// see the response: only the insertion that does not depend on the
// response. A retry on another server replaces the cookie, never adds a
// second one.
func (pc *cookiePersistence) insertUnhooked(x *cookieExchange, r *http.Request, w http.ResponseWriter) {
	if x.hooked || w == nil || pc.cfg.Mode != persist.ModeInsert {
		return
	}
	h := w.Header()
	if x.inserted != "" {
		kept := h["Set-Cookie"][:0]
		for _, v := range h["Set-Cookie"] {
			if v != x.inserted {
				kept = append(kept, v)
			}
		}
		h["Set-Cookie"] = kept
		x.inserted = ""
	}
	scratch := http.Header{}
	cfg := *pc.cfg
	cfg.NoCache = false
	cfg.WriteResponse(scratch, pc.response(x, r.Method, http.StatusOK))
	if v := scratch["Set-Cookie"]; len(v) == 1 {
		x.inserted = v[0]
		h["Set-Cookie"] = append(h["Set-Cookie"], v[0])
	}
}

// response describes the exchange for the response side.
func (pc *cookiePersistence) response(x *cookieExchange, method string, status int) persist.Response {
	i := x.server.Index()
	resp := persist.Response{
		Method:       method,
		Status:       status,
		ServerCookie: pc.cookies[i],
		Request:      x.req,
		Now:          pc.now().Unix(),
	}
	if pc.inserted != nil {
		resp.Inserted = pc.inserted[i]
	}
	return resp
}

// respond applies the response side to the response header h.
func (x *cookieExchange) respond(h http.Header, method string, status int) {
	pc := x.pc
	if pc == nil || x.server == nil {
		return
	}
	st := pc.cfg.WriteResponse(h, pc.response(x, method, status))
	pc.slot.counters.responses[st].Add(1)
}

// acquireServer takes a slot on s for a request that persistence sends to
// it, without the load balancer (HAProxy's direct access): when s is full
// the request waits in s's own queue, within its maxqueue (ErrQueueFull
// beyond). A request whose server leaves the pool while it waits goes
// through the load balancer with req.
func (b *Backend) acquireServer(ctx context.Context, s *Server, req sched.Request, veto Vetoer) (*Server, error) {
	b.mu.Lock()
	if !b.fullLocked(s) {
		b.takeLocked(s)
		b.mu.Unlock()
		return s, nil
	}
	if s.MaxQueue > 0 && s.queue.n >= s.MaxQueue {
		b.mu.Unlock()
		return nil, ErrQueueFull
	}
	w := b.enqueueLocked(s)
	b.mu.Unlock()
	return b.wait(ctx, w, req, veto)
}

// CookieHandler is an HTTP handler that goes before a reverse_proxy using
// the haproxy selection policy with a persistence cookie. It applies the
// response side of HAProxy's cookie persistence, which a selection policy
// cannot reach: it deletes, rewrites or prefixes the cookie the server
// sets, inserts the persistence cookie once the response is known, and
// adds "Cache-control: private" for nocache. It has no configuration: the
// policy that picks the server tells it what to do. Without a policy with
// a cookie it does nothing.
type CookieHandler struct{}

// CaddyModule returns the Caddy module information.
func (CookieHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.haproxy_cookie",
		New: func() caddy.Module { return new(CookieHandler) },
	}
}

// ServeHTTP runs the rest of the route with a response writer that applies
// the persistence cookie when the response header is written.
func (CookieHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	c := new(cookieRequest)
	c.exchange.hooked = true
	caddyhttp.SetVar(r.Context(), cookieVarKey, &c.exchange)
	c.wrapper.ResponseWriter = w
	c.writer = cookieWriter{ResponseWriterWrapper: &c.wrapper, x: &c.exchange, method: r.Method}
	return next.ServeHTTP(&c.writer, r)
}

// cookieRequest is what the CookieHandler keeps for one request, in one
// allocation.
type cookieRequest struct {
	exchange cookieExchange
	wrapper  caddyhttp.ResponseWriterWrapper
	writer   cookieWriter
}

// cookieWriter applies the exchange to the first final response header.
type cookieWriter struct {
	*caddyhttp.ResponseWriterWrapper
	x      *cookieExchange
	method string
	done   bool
}

func (w *cookieWriter) WriteHeader(status int) {
	if !w.done && (status >= 200 || status == http.StatusSwitchingProtocols) {
		w.done = true
		w.x.respond(w.Header(), w.method, status)
	}
	w.ResponseWriterWrapper.WriteHeader(status)
}

func (w *cookieWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriterWrapper.Write(b)
}

// ReadFrom makes sure the header goes through WriteHeader first.
func (w *cookieWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriterWrapper.ReadFrom(r)
}

// FlushError flushes, writing the header first if needed.
func (w *cookieWriter) FlushError() error {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(w.ResponseWriterWrapper.ResponseWriter).Flush()
}

// CookieCounters count what persistence cookies did in a backend, by
// HAProxy's log flags. They survive config reloads.
type CookieCounters struct {
	requests  [8]atomic.Int64
	responses [8]atomic.Int64
}

// Requests returns how many requests came with a cookie of status st (N:
// none, V: valid, I: invalid, D: down server, E: expired, O: old, U:
// unused).
func (c *CookieCounters) Requests(st persist.RequestStatus) int64 {
	return c.requests[st&7].Load()
}

// Responses returns how many responses had their cookie handled as st (N:
// none, I: inserted, U: updated, D: deleted, R: rewritten, P: preserved).
func (c *CookieCounters) Responses(st persist.ResponseStatus) int64 {
	return c.responses[st&7].Load()
}

// cookies holds a *cookieSlot per backend name, as backends holds the
// backends: reloads keep the counters.
var cookies = caddy.NewUsagePool()

type cookieSlot struct {
	counters CookieCounters
	current  atomic.Pointer[cookiePersistence]
}

func (*cookieSlot) Destruct() error { return nil }

func attachCookieSlot(backend string, pc *cookiePersistence) *cookieSlot {
	if backend == "" {
		// An unnamed backend is private to its handler.
		s := new(cookieSlot)
		s.current.Store(pc)
		return s
	}
	v, _, _ := cookies.LoadOrNew(backend, func() (caddy.Destructor, error) { return new(cookieSlot), nil })
	s := v.(*cookieSlot)
	s.current.Store(pc)
	return s
}

func detachCookieSlot(backend string) {
	if backend != "" {
		_, _ = cookies.Delete(backend)
	}
}

// Persistence is what the stats page and the admin API read about a
// backend's persistence cookie.
type Persistence struct {
	pc *cookiePersistence
}

// LookupPersistence returns the persistence cookie of the named backend, as
// its newest configuration has it; false when it has none.
func LookupPersistence(backend string) (Persistence, bool) {
	var found *cookieSlot
	cookies.Range(func(key, value any) bool {
		if key.(string) == backend {
			found = value.(*cookieSlot)
			return false
		}
		return true
	})
	if found == nil {
		return Persistence{}, false
	}
	pc := found.current.Load()
	return Persistence{pc}, pc != nil
}

// Name is the cookie's name, HAProxy's "cookie" stats column for the
// backend.
func (p Persistence) Name() string { return p.pc.cfg.Name }

// ServerCookie is the named server's cookie value (computed for a dynamic
// cookie), HAProxy's "cookie" stats column for the server.
func (p Persistence) ServerCookie(server string) string {
	if s := p.pc.backend.Server(server); s != nil {
		return p.pc.cookies[s.Index()]
	}
	return ""
}

// Counters returns the backend's persistence counters.
func (p Persistence) Counters() *CookieCounters { return &p.pc.slot.counters }

// Interface guards
var (
	_ caddyhttp.MiddlewareHandler = CookieHandler{}
	_ persist.Servers             = (*cookieServers)(nil)
	_ http.ResponseWriter         = (*cookieWriter)(nil)
	_ io.ReaderFrom               = (*cookieWriter)(nil)
)
