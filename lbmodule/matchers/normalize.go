package matchers

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(NormalizeURI{})
}

// NormalizeURI rewrites the request target the way HAProxy's
// "http-request normalize-uri <normalizer>" does, on the target as the
// client sent it: later rules, the load balancer and the server see the
// result. It is the http.handlers.haproxy_normalize_uri module.
//
//	{"handler": "haproxy_normalize_uri", "normalizer": "path-strip-dotdot", "full": true}
//
// The normalizers are path-merge-slashes (runs of slashes in the path
// become one), path-strip-dot ("/./" segments go, a trailing "/." becomes
// "/"), path-strip-dotdot ("/a/../" goes; with Full a ".." above the root
// goes too, otherwise it stays), percent-decode-unreserved (escapes of
// letters, digits, '-', '.', '_' and '~' are decoded in the path and
// query), percent-to-uppercase (the hex digits of escapes become upper
// case) and query-sort-by-name (the '&'-separated query parameters are
// sorted by name, equal names keeping their order).
type NormalizeURI struct {
	// Normalizer names the normalization.
	Normalizer string `json:"normalizer"`
	// Full makes path-strip-dotdot drop ".." segments above the root.
	Full bool `json:"full,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (NormalizeURI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.haproxy_normalize_uri",
		New: func() caddy.Module { return new(NormalizeURI) },
	}
}

// Validate refuses an unknown normalizer.
func (n NormalizeURI) Validate() error {
	switch n.Normalizer {
	case "path-merge-slashes", "path-strip-dot", "path-strip-dotdot", "percent-decode-unreserved", "percent-to-uppercase", "query-sort-by-name":
	default:
		return fmt.Errorf("unknown normalizer %q", n.Normalizer)
	}
	if n.Full && n.Normalizer != "path-strip-dotdot" {
		return fmt.Errorf("full applies to path-strip-dotdot only")
	}
	return nil
}

// ServeHTTP normalizes the request target and calls the next handler.
func (n NormalizeURI) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if uri := n.normalize(r.RequestURI); uri != r.RequestURI {
		setRequestURI(r, uri)
	}
	return next.ServeHTTP(w, r)
}

// normalize returns the normalized request target.
func (n NormalizeURI) normalize(uri string) string {
	prefix, path, query, hasQuery := splitTarget(uri)
	switch n.Normalizer {
	case "path-merge-slashes":
		for strings.Contains(path, "//") {
			path = strings.ReplaceAll(path, "//", "/")
		}
	case "path-strip-dot":
		path = stripDot(path)
	case "path-strip-dotdot":
		path = stripDotDot(path, n.Full)
	case "percent-decode-unreserved":
		path, query = decodeUnreserved(path), decodeUnreserved(query)
	case "percent-to-uppercase":
		path, query = upperEscapes(path), upperEscapes(query)
	case "query-sort-by-name":
		params := strings.Split(query, "&")
		slices.SortStableFunc(params, func(a, b string) int {
			an, _, _ := strings.Cut(a, "=")
			bn, _, _ := strings.Cut(b, "=")
			return strings.Compare(an, bn)
		})
		query = strings.Join(params, "&")
	}
	if hasQuery {
		return prefix + path + "?" + query
	}
	return prefix + path
}

// splitTarget cuts a request target into the scheme and authority of an
// absolute form (empty otherwise), the path and the query.
func splitTarget(uri string) (prefix, path, query string, hasQuery bool) {
	rest := uri
	if !strings.HasPrefix(uri, "/") {
		if i := strings.Index(uri, "://"); i >= 0 {
			j := strings.IndexAny(uri[i+3:], "/?")
			if j < 0 {
				return uri, "", "", false
			}
			prefix, rest = uri[:i+3+j], uri[i+3+j:]
		}
	}
	path, query, hasQuery = strings.Cut(rest, "?")
	return prefix, path, query, hasQuery
}

// stripDot removes "." segments; a trailing one leaves its slash.
func stripDot(path string) string {
	segs := strings.Split(path, "/")
	out := segs[:1]
	for i, s := range segs[1:] {
		if s == "." {
			if i == len(segs)-2 {
				out = append(out, "")
			}
			continue
		}
		out = append(out, s)
	}
	return strings.Join(out, "/")
}

// stripDotDot removes each ".." segment with the segment before it; a
// trailing ".." leaves (or, kept, gains) a slash. A ".." with nothing
// before it stays, unless full.
func stripDotDot(path string, full bool) string {
	if !strings.HasPrefix(path, "/") {
		return path
	}
	segs := strings.Split(path[1:], "/")
	var out []string
	kept := 0 // leading ".." segments kept above the root
	for i, s := range segs {
		if s != ".." {
			out = append(out, s)
			continue
		}
		switch {
		case len(out) > kept:
			out = out[:len(out)-1]
		case !full:
			out = append(out, s)
			kept++
		}
		if i == len(segs)-1 {
			out = append(out, "")
		}
	}
	return "/" + strings.Join(out, "/")
}

// isUnreserved reports whether RFC 3986 leaves c unreserved.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeUnreserved decodes the escapes of unreserved characters; other
// escapes and malformed ones stay as they are.
func decodeUnreserved(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if c := hi<<4 | lo; ok1 && ok2 && isUnreserved(c) {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// upperEscapes writes the hex digits of well-formed escapes in upper case.
func upperEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] != '%' {
			continue
		}
		if _, ok := unhex(b[i+1]); !ok {
			continue
		}
		if _, ok := unhex(b[i+2]); !ok {
			continue
		}
		b[i+1], b[i+2] = upperHex(b[i+1]), upperHex(b[i+2])
		i += 2
	}
	return string(b)
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

// setRequestURI replaces the request target: the raw form the plugin's
// fetches read and the parsed URL that Caddy's matchers and the proxy use.
func setRequestURI(r *http.Request, uri string) {
	_, path, query, _ := splitTarget(uri)
	r.RequestURI = uri
	r.URL.RawQuery = query
	if p, err := url.PathUnescape(path); err == nil {
		r.URL.Path, r.URL.RawPath = p, path
	}
}

// Interface guard
var _ caddyhttp.MiddlewareHandler = NormalizeURI{}
