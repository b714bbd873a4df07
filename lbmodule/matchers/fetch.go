package matchers

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// sampleKind is the type of value a fetch returns.
type sampleKind int

const (
	kindString sampleKind = iota
	kindInt
	kindIP
	kindBool
)

// fetchInfo describes a fetch the matcher knows: its sample type (which
// gives the default match method) and how many arguments it takes.
type fetchInfo struct {
	kind             sampleKind
	minArgs, maxArgs int
}

// fetches are the sample fetches the matcher evaluates, by HAProxy name.
var fetches = map[string]fetchInfo{
	"path":            {kindString, 0, 0},
	"url":             {kindString, 0, 0},
	"base":            {kindString, 0, 0},
	"query":           {kindString, 0, 0},
	"url_param":       {kindString, 1, 3},
	"hdr":             {kindString, 1, 2},
	"hdr_cnt":         {kindInt, 1, 1},
	"hdr_val":         {kindInt, 1, 2},
	"fhdr":            {kindString, 1, 2},
	"hdr_ip":          {kindIP, 1, 2},
	"cook":            {kindString, 1, 1},
	"cook_cnt":        {kindInt, 1, 1},
	"cook_val":        {kindInt, 1, 1},
	"method":          {kindString, 0, 0},
	"req_ver":         {kindString, 0, 0},
	"src":             {kindIP, 0, 0},
	"src_port":        {kindInt, 0, 0},
	"dst":             {kindIP, 0, 0},
	"dst_port":        {kindInt, 0, 0},
	"ssl_fc":          {kindBool, 0, 0},
	"ssl_fc_sni":      {kindString, 0, 0},
	"ssl_c_used":      {kindBool, 0, 0},
	"ssl_c_verify":    {kindInt, 0, 0},
	"nbsrv":           {kindInt, 1, 1},
	"srv_is_up":       {kindBool, 1, 1},
	"http_auth":       {kindBool, 1, 1},
	"http_auth_group": {kindString, 1, 1},
	"always_true":     {kindBool, 0, 0},
	"always_false":    {kindBool, 0, 0},
}

// defaultMethod is the match method HAProxy uses for a sample type when
// none is given.
func defaultMethod(k sampleKind) string {
	switch k {
	case kindInt:
		return MatchInt
	case kindIP:
		return MatchIP
	case kindBool:
		return MatchBool
	}
	return MatchStr
}

// evalTest reports whether the request matches one ACL test: whether any
// sample of the fetch matches any pattern.
func (t *Test) eval(r *http.Request) bool {
	p := t.compiled
	if t.isExpression() {
		for _, smp := range evalExpression(r, t.Fetch, t.Args, t.Converters, !t.Single) {
			if p.matchSample(smp) {
				return true
			}
		}
		return false
	}
	switch t.Fetch {
	case "path":
		s, ok := requestPath(r.RequestURI)
		return ok && p.matchString(s)
	case "url":
		return p.matchString(r.RequestURI)
	case "base":
		path, ok := requestPath(r.RequestURI)
		if !ok {
			return false
		}
		return p.matchString(hostHeader(r) + path)
	case "query":
		_, q, ok := strings.Cut(r.RequestURI, "?")
		return ok && p.matchString(q)
	case "url_param":
		return t.evalURLParam(r)
	case "hdr", "fhdr":
		values := headerValues(r, t.Args[0], t.Fetch == "hdr")
		if t.occ != 0 {
			v, ok := occurrence(values, t.occ)
			return ok && p.matchString(v)
		}
		for _, v := range values {
			if p.matchString(v) {
				return true
			}
		}
		return false
	case "hdr_cnt":
		return p.matchInt(int64(len(headerValues(r, t.Args[0], true))))
	case "hdr_val":
		values := headerValues(r, t.Args[0], true)
		if t.occ != 0 {
			v, ok := occurrence(values, t.occ)
			return ok && p.matchInt(leadingInt(v))
		}
		for _, v := range values {
			if p.matchInt(leadingInt(v)) {
				return true
			}
		}
		return false
	case "hdr_ip":
		values := headerValues(r, t.Args[0], true)
		if t.occ != 0 {
			v, ok := occurrence(values, t.occ)
			if !ok {
				return false
			}
			values = []string{v}
		}
		for _, v := range values {
			if a, ok := headerIP(v); ok && p.matchIP(a) {
				return true
			}
		}
		return false
	case "cook":
		for _, v := range cookieValues(r, t.Args[0]) {
			if p.matchString(v) {
				return true
			}
		}
		return false
	case "cook_cnt":
		return p.matchInt(int64(len(cookieValues(r, t.Args[0]))))
	case "cook_val":
		for _, v := range cookieValues(r, t.Args[0]) {
			if p.matchInt(leadingInt(v)) {
				return true
			}
		}
		return false
	case "method":
		return t.matchMethod(originalMethod(r))
	case "req_ver":
		return p.matchString(strconv.Itoa(r.ProtoMajor) + "." + strconv.Itoa(r.ProtoMinor))
	case "src", "src_port":
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil {
			return false
		}
		if t.Fetch == "src" {
			return p.matchIP(ap.Addr())
		}
		return p.matchInt(int64(ap.Port()))
	case "dst", "dst_port":
		addr, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if addr == nil {
			return false
		}
		ap, err := netip.ParseAddrPort(addr.String())
		if err != nil {
			return false
		}
		if t.Fetch == "dst" {
			return p.matchIP(ap.Addr())
		}
		return p.matchInt(int64(ap.Port()))
	case "ssl_fc":
		return p.matchInt(boolInt(r.TLS != nil))
	case "ssl_fc_sni":
		return r.TLS != nil && r.TLS.ServerName != "" && p.matchString(r.TLS.ServerName)
	case "ssl_c_used":
		return r.TLS != nil && p.matchInt(boolInt(len(r.TLS.PeerCertificates) > 0))
	case "ssl_c_verify":
		// A client certificate that fails verification ends the
		// handshake (certificate errors are never ignored), so every
		// TLS request has verification result 0 (X509_V_OK).
		return r.TLS != nil && p.matchInt(0)
	case "nbsrv":
		return p.matchInt(int64(usableServers(t.Args[0])))
	case "srv_is_up":
		return p.matchInt(boolInt(serverUp(t.Args[0])))
	case "http_auth", "http_auth_group":
		return t.evalAuth(r)
	case "always_true":
		return p.matchInt(1)
	case "always_false":
		return p.matchInt(0)
	}
	return false
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// requestPath returns the path of a request target as sent: from the first
// slash (after any scheme and authority) to the query. A target without a
// path ("*", or an authority alone) has no path sample.
func requestPath(uri string) (string, bool) {
	if !strings.HasPrefix(uri, "/") {
		i := strings.Index(uri, "://")
		if i < 0 {
			return "", false
		}
		rest := uri[i+3:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return "", false
		}
		uri = rest[j:]
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return uri, true
}

// hostHeader returns the request's Host, which Go keeps out of r.Header.
func hostHeader(r *http.Request) string {
	return r.Host
}

// headerValues returns the values of a request header in order. With
// split, each line is cut at commas outside quoted strings and the pieces
// are trimmed, as HAProxy's hdr() sees them; otherwise whole lines are
// returned, as fhdr() sees them.
func headerValues(r *http.Request, name string, split bool) []string {
	var lines []string
	switch {
	case strings.EqualFold(name, "host"):
		if r.Host != "" {
			lines = []string{r.Host}
		}
	case strings.EqualFold(name, "transfer-encoding"):
		// Go's server moves this header out of r.Header too.
		lines = r.TransferEncoding
	default:
		lines = r.Header.Values(name)
	}
	if !split {
		out := make([]string, len(lines))
		for i, l := range lines {
			out[i] = strings.Trim(l, " \t")
		}
		return out
	}
	var out []string
	for _, l := range lines {
		out = append(out, splitHeaderValue(l)...)
	}
	if strings.EqualFold(name, "connection") {
		// HAProxy consumes the close and keep-alive options itself; the
		// rules see the other ones only.
		out = slices.DeleteFunc(out, func(v string) bool {
			return strings.EqualFold(v, "close") || strings.EqualFold(v, "keep-alive")
		})
	}
	return out
}

// splitHeaderValue cuts a header line at commas that are not inside a
// quoted string, and trims the values.
func splitHeaderValue(line string) []string {
	var out []string
	for _, v := range cutHeaderLine(line) {
		out = append(out, strings.Trim(v, " \t"))
	}
	return out
}

// cutHeaderLine cuts a header line at commas that are not inside a quoted
// string, keeping the blanks around each value.
func cutHeaderLine(line string) []string {
	var out []string
	quoted, escaped := false, false
	start := 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',':
			out = append(out, line[start:i])
			start = i + 1
		}
	}
	return append(out, line[start:])
}

// headerIP reads an address from a header value the way HAProxy's hdr_ip
// does: four decimal IPv4 parts, optionally followed by ":<port>", or an
// IPv6 address.
func headerIP(v string) (netip.Addr, bool) {
	if host, port, ok := strings.Cut(v, ":"); ok && strings.Count(v, ":") == 1 {
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return netip.Addr{}, false
		}
		v = host
	}
	if parts := strings.Split(v, "."); !strings.Contains(v, ":") {
		if len(parts) != 4 {
			return netip.Addr{}, false
		}
		var b [4]byte
		for i, part := range parts {
			if part == "" || strings.Trim(part, "0123456789") != "" {
				return netip.Addr{}, false
			}
			// Leading zeros are decimal, not octal.
			digits := strings.TrimLeft(part, "0")
			if len(digits) > 3 {
				return netip.Addr{}, false
			}
			n, _ := strconv.Atoi("0" + digits)
			if n > 255 {
				return netip.Addr{}, false
			}
			b[i] = byte(n)
		}
		return netip.AddrFrom4(b), true
	}
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

// occurrence picks the n-th value (from 1), or from the end when n is
// negative.
func occurrence(values []string, n int) (string, bool) {
	if n < 0 {
		n = len(values) + 1 + n
	}
	if n < 1 || n > len(values) {
		return "", false
	}
	return values[n-1], true
}

// leadingInt reads an optional minus sign and the decimal digits that
// follow, as HAProxy converts a header value to an integer ("+1" is 0).
func leadingInt(s string) int64 {
	neg := false
	if s != "" && s[0] == '-' {
		neg = true
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// cookieValues returns the values of every cookie with that name in the
// request's Cookie headers, as sent (quotes included).
func cookieValues(r *http.Request, name string) []string {
	var out []string
	for _, line := range r.Header.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			part = strings.Trim(part, " \t")
			n, v, ok := strings.Cut(part, "=")
			if !ok || strings.TrimRight(n, " \t") != name {
				continue
			}
			out = append(out, strings.Trim(v, " \t"))
		}
	}
	return out
}

// evalURLParam matches the values of a query parameter.
func (t *Test) evalURLParam(r *http.Request) bool {
	for _, v := range urlParamValues(r.RequestURI, t.Args) {
		if t.compiled.matchString(v) {
			return true
		}
	}
	return false
}

// urlParamValues returns the values of a query parameter (args: name,
// delimiter, "i"), in order. As in HAProxy, the parameters start after the
// first '?' (or the given delimiter) and are separated by '&', ';' or the
// delimiter; a parameter without '=' has no value.
func urlParamValues(uri string, args []string) []string {
	name := args[0]
	delim := rune('?')
	if len(args) > 1 && args[1] != "" {
		delim = rune(args[1][0])
	}
	icase := len(args) > 2 && args[2] == "i"
	start := strings.IndexFunc(uri, func(c rune) bool { return c == '?' || c == delim })
	if start < 0 {
		return nil
	}
	isSep := func(c rune) bool { return c == '&' || c == ';' || c == delim }
	var out []string
	for _, part := range strings.FieldsFunc(uri[start+1:], isSep) {
		n, v, ok := strings.Cut(part, "=")
		if ok && (n == name || icase && strings.EqualFold(n, name)) {
			out = append(out, v)
		}
	}
	return out
}

// originalMethod is the method the client sent: HAProxy's method fetch
// keeps reading it after a set-method rule changed the request.
func originalMethod(r *http.Request) string {
	if orig, ok := r.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request); ok && orig.Method != "" {
		return orig.Method
	}
	return r.Method
}

// knownMethods are the methods HAProxy identifies by name.
var knownMethods = map[string]bool{
	"OPTIONS": true, "GET": true, "HEAD": true, "POST": true, "PUT": true,
	"DELETE": true, "TRACE": true, "CONNECT": true,
}

// matchMethod compares a request method with method patterns as HAProxy
// does: a pattern naming a well-known method (in upper case) matches that
// method only; another pattern is compared as a string with the request's
// method, which must not be a well-known one (case-insensitively with -i).
// So "method get" matches a request sent as "get" but not "GET".
func (t *Test) matchMethod(m string) bool {
	p := t.compiled
	if p.method != MatchStr {
		// Other methods see the method's name as a string.
		return p.matchString(m)
	}
	for _, v := range p.strs {
		if knownMethods[v] {
			if m == v {
				return true
			}
			continue
		}
		if knownMethods[m] {
			continue
		}
		if m == v || p.ignoreCase && strings.EqualFold(m, v) {
			return true
		}
	}
	return false
}

// usableServers counts the servers of a backend that take load-balanced
// traffic, as HAProxy's nbsrv: the usable active servers, or when there is
// none, the usable backup servers (only the first counts without
// allbackups). An unknown backend has none.
func usableServers(backend string) int {
	b, ok := lbmodule.LookupBackend(backend)
	if !ok {
		return 0
	}
	active, backup := 0, 0
	for _, s := range b.Servers() {
		if !s.Usable() {
			continue
		}
		if s.Backup {
			backup++
		} else {
			active++
		}
	}
	switch {
	case active > 0:
		return active
	case backup > 0 && !b.Config().AllBackups:
		return 1
	}
	return backup
}

// serverUp reports whether "backend/server" is up and not in maintenance,
// as HAProxy's srv_is_up (a draining server is up).
func serverUp(ref string) bool {
	be, srv, ok := strings.Cut(ref, "/")
	if !ok {
		return false
	}
	b, found := lbmodule.LookupBackend(be)
	if !found {
		return false
	}
	s := b.Server(srv)
	return s != nil && s.Up() && s.AdminState() != lbmodule.AdminMaint
}
