package matchers

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(ReplaceValue{})
}

// ReplaceValue rewrites the comma-separated values of a header the way
// HAProxy's "http-request replace-value" and "http-response replace-value"
// do: in every line of the header, each value (quoted strings kept whole,
// surrounding blanks aside) that the regular expression matches anywhere
// is replaced, blanks included, by the replacement, where ${1}… name the
// expression's groups. It is the http.handlers.haproxy_replace_value
// module.
//
//	{"handler": "haproxy_replace_value", "header": "Cache-Control",
//	 "regexp": "^max-age=(.*)$", "replace": "s-maxage=${1}", "response": true}
type ReplaceValue struct {
	// Header is the header's name.
	Header string `json:"header"`
	// Regexp is the regular expression (Go syntax) tested on each value.
	Regexp string `json:"regexp"`
	// Replace is the new value, with ${N} references to the groups.
	Replace string `json:"replace"`
	// Response rewrites the response's header instead of the request's,
	// when the response is written.
	Response bool `json:"response,omitempty"`
	// Require limits a response rewrite to the responses it matches.
	Require *caddyhttp.ResponseMatcher `json:"require,omitempty"`

	re *regexp.Regexp
}

// CaddyModule returns the Caddy module information.
func (ReplaceValue) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.haproxy_replace_value",
		New: func() caddy.Module { return new(ReplaceValue) },
	}
}

// Provision compiles the regular expression.
func (rv *ReplaceValue) Provision(caddy.Context) error { return rv.Validate() }

// Validate checks the header name and compiles the regular expression.
func (rv *ReplaceValue) Validate() error {
	if rv.Header == "" {
		return fmt.Errorf("replace-value needs a header name")
	}
	re, err := regexp.Compile(rv.Regexp)
	if err != nil {
		return fmt.Errorf("replace-value: regular expression %q: %v", rv.Regexp, err)
	}
	rv.re = re
	return nil
}

// ServeHTTP rewrites the request's header, or arranges for the response's
// to be rewritten, and calls the next handler.
func (rv *ReplaceValue) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if !rv.Response {
		rv.apply(r.Header)
		return next.ServeHTTP(w, r)
	}
	return next.ServeHTTP(newFinalHeaderWriter(w, func(h http.Header, status int) int {
		if rv.Require == nil || rv.Require.Match(status, h) {
			rv.apply(h)
		}
		return status
	}), r)
}

// apply rewrites every line of the header in h.
func (rv *ReplaceValue) apply(h http.Header) {
	lines := h.Values(rv.Header)
	if len(lines) == 0 {
		return
	}
	out := make([]string, len(lines))
	for i, line := range lines {
		out[i] = rv.replaceLine(line)
	}
	h[http.CanonicalHeaderKey(rv.Header)] = out
}

// replaceLine rewrites the values of one header line.
func (rv *ReplaceValue) replaceLine(line string) string {
	segs := cutHeaderLine(line)
	for i, seg := range segs {
		if v := strings.Trim(seg, " \t"); rv.re.MatchString(v) {
			loc := rv.re.FindStringSubmatchIndex(v)
			segs[i] = string(rv.re.ExpandString(nil, rv.Replace, v, loc))
		}
	}
	return strings.Join(segs, ",")
}

// Interface guards
var (
	_ caddy.Provisioner           = (*ReplaceValue)(nil)
	_ caddyhttp.MiddlewareHandler = (*ReplaceValue)(nil)
)
