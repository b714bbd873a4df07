package persist

import (
	"net/http"
	"strings"
)

// ResponseStatus says what became of the persistence cookie in a response,
// as the server-side cookie flag of HAProxy's logs.
type ResponseStatus uint8

// Response cookie statuses.
const (
	// ResponseNone: no persistence cookie in the response (N).
	ResponseNone ResponseStatus = iota
	// ResponsePreserved: the server set the cookie and it was passed on
	// untouched (P).
	ResponsePreserved
	// ResponseDeleted: the server's cookie was removed (D).
	ResponseDeleted
	// ResponseInserted: a cookie was inserted (I).
	ResponseInserted
	// ResponseRewritten: the server's cookie was rewritten or prefixed (R).
	ResponseRewritten
	// ResponseUpdated: the client's cookie was inserted again only to
	// refresh its dates (U).
	ResponseUpdated

	numResponseStatus
)

// String returns HAProxy's log letter for the status.
func (s ResponseStatus) String() string {
	if s < numResponseStatus {
		return "NPDIRU"[s : s+1]
	}
	return "?"
}

// Response describes the exchange whose response WriteResponse edits.
type Response struct {
	// Method is the request method.
	Method string
	// Status is the response status code. Interim (1xx) responses other
	// than 101 are left alone.
	Status int
	// ServerCookie is the cookie value of the server that answered, ""
	// when it has none.
	ServerCookie string
	// Request is the request side's decision, with Direct cleared if the
	// request did not end on the server its cookie named.
	Request Request
	// Ignore disregards persistence ("ignore-persist").
	Ignore bool
	// Now is the Unix time.
	Now int64
	// Inserted is the Set-Cookie value to insert when the caller has it
	// from InsertedCookie, to spare building it; "" builds it.
	Inserted string
}

// removalSuffix follows "<name>=" in the cookie that tells a client to
// drop its persistence cookie.
const removalSuffix = "; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"

// WriteResponse edits the response header h as HAProxy does: it deletes,
// rewrites or prefixes the persistence cookie the server set, appends the
// cookie to insert (with its dates, domains and attributes), and adds
// "Cache-control: private" to a cacheable response that gets a cookie when
// nocache is set.
func (c *Config) WriteResponse(h http.Header, r Response) ResponseStatus {
	if r.Status < 200 && r.Status != http.StatusSwitchingProtocols {
		return ResponseNone
	}
	status, found := c.serverCookies(h, r)

	if c.Mode != ModeInsert || (found && c.Preserve) || r.Ignore ||
		(c.PostOnly && r.Method != http.MethodPost) || !c.needsInsert(r) {
		return status
	}
	cacheable := c.NoCache && cacheable(h, r)
	inserted := r.Inserted
	if inserted == "" {
		inserted = c.insertedCookie(r)
	}
	h["Set-Cookie"] = append(h["Set-Cookie"], inserted)
	if r.ServerCookie != "" && r.Request.Direct {
		status = ResponseUpdated
	} else {
		status = ResponseInserted
	}
	if cacheable {
		// "private" rather than no-cache="set-cookie", which old caches
		// misread.
		h["Cache-Control"] = append(h["Cache-Control"], "private")
	}
	return status
}

// needsInsert reports whether the client must get a cookie: it did not
// come straight to this server, or the dates need writing, refreshing or
// dropping.
func (c *Config) needsInsert(r Response) bool {
	req := r.Request
	switch {
	case !req.Direct:
		return true
	case (c.MaxIdle != 0 || req.Last != 0) && (req.Last == 0 || req.Last < r.Now):
		return true
	case c.MaxLife != 0 && req.First == 0:
		return true
	case c.MaxLife == 0 && req.First != 0:
		return true
	}
	return false
}

// InsertedCookie returns the Set-Cookie value inserted for a server whose
// cookie value is serverCookie, and true, when that value is the same in
// every response (the cookie carries no dates); "" and false otherwise.
func (c *Config) InsertedCookie(serverCookie string) (string, bool) {
	if c.MaxIdle != 0 || c.MaxLife != 0 {
		return "", false
	}
	return c.insertedCookie(Response{ServerCookie: serverCookie}), true
}

// insertedCookie is the Set-Cookie value HAProxy inserts.
func (c *Config) insertedCookie(r Response) string {
	b := make([]byte, 0, 64)
	b = append(b, c.Name...)
	b = append(b, '=')
	if r.ServerCookie == "" {
		// A server without a value (typically a backup) makes the
		// client forget its cookie and re-balance next time.
		b = append(b, removalSuffix...)
	} else {
		b = append(b, r.ServerCookie...)
		if c.MaxIdle != 0 || c.MaxLife != 0 {
			b = append(b, '|')
			b = encodeDate(b, r.Now)
			if c.MaxLife != 0 {
				first := r.Request.First
				if first == 0 {
					first = r.Now
				}
				b = append(b, '|')
				b = encodeDate(b, first)
			}
		}
		b = append(b, "; path=/"...)
	}
	for _, d := range c.Domains {
		b = append(b, "; domain="...)
		b = append(b, d...)
	}
	if c.HTTPOnly {
		b = append(b, "; HttpOnly"...)
	}
	if c.Secure {
		b = append(b, "; Secure"...)
	}
	for _, a := range c.Attrs {
		b = append(b, "; "...)
		b = append(b, a...)
	}
	return string(b)
}

// serverCookies applies the mode to the persistence cookies the server
// set: the first cookie of each Set-Cookie header counts. It reports
// whether one was found.
func (c *Config) serverCookies(h http.Header, r Response) (status ResponseStatus, found bool) {
	values := h["Set-Cookie"]
	if len(values) == 0 {
		return ResponseNone, false
	}
	kept := values[:0:0]
	changed := false
	for _, v := range values {
		it := scanSetCookie(v)
		if it.valEnd == it.nameEnd {
			// No '=': not a cookie HAProxy looks at.
			kept = append(kept, v)
			continue
		}
		name := v[it.nameStart:it.nameEnd]
		if it.nameEnd != it.eq || it.valStart != it.eq+1 {
			// Blanks around '=' are dropped from every cookie.
			v = v[:it.nameEnd] + "=" + v[it.valStart:]
			shift := it.valStart - (it.nameEnd + 1)
			it.valStart -= shift
			it.valEnd -= shift
			changed = true
		}
		if name != c.Name || r.Ignore {
			kept = append(kept, v)
			continue
		}
		found = true
		switch {
		case c.Preserve:
			status = ResponsePreserved
		case c.Mode == ModeInsert || (r.Request.Direct && c.Indirect):
			status, changed = ResponseDeleted, true
			continue
		case r.ServerCookie != "" && c.Mode == ModeRewrite:
			v = v[:it.valStart] + r.ServerCookie + v[it.valEnd:]
			status, changed = ResponseRewritten, true
		case r.ServerCookie != "" && c.Mode == ModePrefix:
			v = v[:it.valStart] + r.ServerCookie + "~" + v[it.valStart:]
			status, changed = ResponseRewritten, true
		default:
			status = ResponsePreserved
		}
		kept = append(kept, v)
	}
	if changed {
		if len(kept) == 0 {
			delete(h, "Set-Cookie")
		} else {
			h["Set-Cookie"] = kept
		}
	}
	return status, found
}

// setCookieItem locates the first cookie of a Set-Cookie value.
type setCookieItem struct {
	nameStart, nameEnd int
	// eq is the position of '=', or where the name scan stopped.
	eq               int
	valStart, valEnd int
}

// scanSetCookie reads the first cookie of a Set-Cookie value. Unlike a
// Cookie header, a comma does not end the name (Expires dates hold one).
func scanSetCookie(v string) setCookieItem {
	var it setCookieItem
	i := 0
	for i < len(v) && isBlank(v[i]) {
		i++
	}
	it.nameStart, it.nameEnd = i, i
	for i < len(v) && v[i] != '=' && v[i] != ';' {
		if !isBlank(v[i]) {
			it.nameEnd = i + 1
		}
		i++
	}
	it.eq = i
	if i < len(v) && v[i] == '=' {
		i++
		for i < len(v) && isBlank(v[i]) {
			i++
		}
		it.valStart = i
		it.valEnd = cookieValueEnd(v, i)
		for it.valEnd > it.valStart && isBlank(v[it.valEnd-1]) {
			it.valEnd--
		}
	} else {
		// Mark "no '='" by an empty value at the name's end.
		it.valStart, it.valEnd = it.nameEnd, it.nameEnd
	}
	return it
}

// cacheable reports whether a shared cache could store the response, as
// HAProxy 2.6 judges it. The request method decides first (GET, HEAD,
// OPTIONS and TRACE are cacheable), then each Cache-Control directive in
// order: "public" makes the response cacheable, private, no-cache,
// no-store, max-age=0 and s-maxage=0 make it not. "Pragma: no-cache"
// forbids caching, and so does the lack of both an expiry (max-age,
// s-maxage, Expires) and a validator (ETag, Last-Modified).
func cacheable(h http.Header, r Response) bool {
	ok := false
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		ok = true
	}
	if p := h["Pragma"]; len(p) > 0 && strings.EqualFold(strings.TrimSpace(p[0]), "no-cache") {
		return false
	}
	fresh := false
	for _, line := range h["Cache-Control"] {
		for _, d := range splitList(line) {
			switch {
			case strings.EqualFold(d, "public"):
				ok = true
			case strings.EqualFold(d, "private"), strings.EqualFold(d, "no-cache"),
				strings.EqualFold(d, "no-store"), strings.EqualFold(d, "max-age=0"),
				strings.EqualFold(d, "s-maxage=0"):
				ok = false
			case hasPrefixFold(d, `no-cache="set-cookie`):
				// Only forbids caching the cookie, which is what
				// nocache is about anyway.
			case hasPrefixFold(d, "s-maxage"), hasPrefixFold(d, "max-age"):
				fresh = true
			}
		}
	}
	if !fresh && len(h["Expires"]) == 0 && len(h["Etag"]) == 0 && len(h["Last-Modified"]) == 0 {
		return false
	}
	return ok
}

// splitList splits a comma-separated header value outside quoted strings
// and trims each element.
func splitList(v string) []string {
	var out []string
	start, quoted, escaped := 0, false, false
	for i := 0; i <= len(v); i++ {
		if i < len(v) {
			b := v[i]
			switch {
			case escaped:
				escaped = false
				continue
			case quoted:
				if b == '\\' {
					escaped = true
				} else if b == '"' {
					quoted = false
				}
				continue
			case b == '"':
				quoted = true
				continue
			case b != ',':
				continue
			}
		}
		if e := strings.TrimSpace(v[start:i]); e != "" {
			out = append(out, e)
		}
		start = i + 1
	}
	return out
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
