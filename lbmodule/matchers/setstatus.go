package matchers

import (
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(SetStatus{})
}

// SetStatus changes the status of the response, as HAProxy's
// "http-response set-status" and "http-after-response set-status" do; the
// headers and body stay. It is the http.handlers.haproxy_set_status module.
//
//	{"handler": "haproxy_set_status", "status_code": 503, "require": {"status_code": [2]}}
type SetStatus struct {
	// StatusCode is the new status (100 to 999).
	StatusCode int `json:"status_code"`
	// Require limits the change to the responses it matches.
	Require *caddyhttp.ResponseMatcher `json:"require,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (SetStatus) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.haproxy_set_status",
		New: func() caddy.Module { return new(SetStatus) },
	}
}

// Validate checks the status.
func (ss SetStatus) Validate() error {
	if ss.StatusCode < 100 || ss.StatusCode > 999 {
		return fmt.Errorf("set-status: invalid status %d", ss.StatusCode)
	}
	return nil
}

// ServeHTTP calls the next handler with a writer that changes the status.
func (ss SetStatus) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return next.ServeHTTP(newFinalHeaderWriter(w, func(h http.Header, status int) int {
		if ss.Require == nil || ss.Require.Match(status, h) {
			return ss.StatusCode
		}
		return status
	}), r)
}

// finalHeaderWriter calls hook once, when the final (not informational)
// status is written: hook may change the headers and returns the status to
// send.
type finalHeaderWriter struct {
	*caddyhttp.ResponseWriterWrapper
	hook        func(h http.Header, status int) int
	wroteHeader bool
}

func newFinalHeaderWriter(w http.ResponseWriter, hook func(http.Header, int) int) *finalHeaderWriter {
	return &finalHeaderWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}, hook: hook}
}

func (w *finalHeaderWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	if status >= 100 && status < 200 {
		w.ResponseWriterWrapper.WriteHeader(status)
		return
	}
	w.wroteHeader = true
	w.ResponseWriterWrapper.WriteHeader(w.hook(w.Header(), status))
}

func (w *finalHeaderWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriterWrapper.Write(p)
}

// Interface guard
var _ caddyhttp.MiddlewareHandler = SetStatus{}
