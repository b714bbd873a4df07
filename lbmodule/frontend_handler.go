package lbmodule

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(new(FrontendHandler))
}

// FrontendHandler counts the requests of an HAProxy frontend for the stats
// page, and their response status classes, and — with the haproxy
// selection policy — the requests, bytes and responses of the backend and
// server each request went to. The adapter puts it first in each
// frontend's routes and first in its error routes, so that error pages
// are counted as well. The frontend's connections and bytes are counted by
// the haproxy_frontend listener wrapper; the connect and response times by
// the http.reverse_proxy.transport.haproxy transport.
type FrontendHandler struct {
	FrontendConfig

	frontend *Frontend
}

// CaddyModule returns the Caddy module information.
func (*FrontendHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.haproxy_frontend",
		New: func() caddy.Module { return new(FrontendHandler) },
	}
}

// Provision joins the frontend's counters.
func (h *FrontendHandler) Provision(caddy.Context) error {
	f, err := OpenFrontend(h.FrontendConfig)
	h.frontend = f
	return err
}

// Cleanup releases the frontend.
func (h *FrontendHandler) Cleanup() error {
	CloseFrontend(h.frontend, h.FrontendConfig)
	return nil
}

// ServeHTTP counts the request and its response.
func (h *FrontendHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	ctx := r.Context()
	if ex := exchangeOf(ctx); ex != nil && ex.frontend == h.frontend {
		// The error routes answer a request counted already: only the
		// page's status and bytes remain.
		rec := &responseCounter{ResponseWriter: w}
		err := next.ServeHTTP(rec, r)
		ex.recount(rec.finalStatus(err), rec.bytes)
		return err
	}
	now := time.Now()
	fr := &frontendRequest{exchange: exchange{frontend: h.frontend, start: now, header: r.Header}}
	ex := &fr.exchange
	caddyhttp.SetVar(ctx, exchangeVar, ex)
	// The selection policy's slot is freed when the request ends, even
	// when reverse_proxy aborts a response with a panic.
	defer ex.attempt.finish()
	// The haproxy transport reports the connect and response times to ex.
	c := &h.frontend.counters
	c.Requests.Add(1)
	c.RequestRate.Add(now)

	body := &fr.body
	body.ReadCloser = r.Body
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = body
	}
	rec := &fr.response
	rec.ResponseWriter, rec.ex = w, ex
	ended := false
	end := func(err error) {
		ended = true
		clientGone := errors.Is(ctx.Err(), context.Canceled)
		denied, _ := caddyhttp.GetVar(ctx, DeniedVar).(string)
		ex.end(rec.finalStatus(err), requestHeaderSize(r)+body.n, rec.bytes, err, clientGone, denied)
	}
	// reverse_proxy aborts a response its server or client cut short with
	// a panic (http.ErrAbortHandler); the request still counts.
	defer func() {
		if !ended {
			end(errResponseAborted)
		}
	}()
	err := next.ServeHTTP(rec, r)
	end(err)
	return err
}

// errResponseAborted stands for the error of a response aborted by a
// panic.
var errResponseAborted = errors.New("the response was aborted")

// frontendRequest is what the handler keeps for one request, in one
// allocation.
type frontendRequest struct {
	exchange exchange
	body     bodyCounter
	response responseCounter
}

// requestHeaderSize is the size of the request line and header block as
// an HTTP/1 client sent them: Go keeps the header values without their
// surrounding spaces and the names in their canonical form, which has the
// same length.
func requestHeaderSize(r *http.Request) int64 {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return int64(n + 2)
}

// bodyCounter counts the request body bytes read.
type bodyCounter struct {
	io.ReadCloser
	n int64
}

func (b *bodyCounter) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// responseCounter records the response status and counts the bytes of
// the status line, headers and body.
type responseCounter struct {
	http.ResponseWriter
	ex          *exchange
	status      int
	wroteHeader bool
	bytes       int64
}

func (w *responseCounter) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 || code == http.StatusSwitchingProtocols {
		w.wroteHeader, w.status = true, code
		if w.ex != nil {
			if code >= 200 {
				w.ex.stripResponseVia(w.Header())
			}
			w.ex.mu.Lock()
			w.ex.firstByte = time.Now()
			w.ex.mu.Unlock()
		}
	}
	w.bytes += int64(len("HTTP/1.1 000 ") + len(http.StatusText(code)) + 2)
	for k, vs := range w.Header() {
		for _, v := range vs {
			w.bytes += int64(len(k) + 2 + len(v) + 2)
		}
	}
	w.bytes += 2
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseCounter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// finalStatus is the status the client gets: the one written, or for a
// handler error that wrote nothing, the error's, which Caddy writes.
func (w *responseCounter) finalStatus(err error) int {
	switch {
	case w.wroteHeader:
		return w.status
	case err != nil:
		return errorStatus(err)
	}
	return http.StatusOK
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseCounter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack passes a connection takeover (WebSocket) through.
func (w *responseCounter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Flush passes flushes through.
func (w *responseCounter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Interface guards
var (
	_ caddy.Provisioner           = (*FrontendHandler)(nil)
	_ caddy.CleanerUpper          = (*FrontendHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*FrontendHandler)(nil)
)
