package persist

import (
	"net/http"
	"strings"
)

// Servers is the request side's view of a backend's servers, in
// declaration order.
type Servers interface {
	// Len is the number of servers.
	Len() int
	// Cookie is server i's cookie value, "" when it has none.
	Cookie(i int) string
	// Stopped reports a server that is down or in maintenance (HAProxy's
	// STOPPED state). A drained server is not stopped: persistence still
	// reaches it.
	Stopped(i int) bool
}

// RequestStatus says what a request's persistence cookie was worth, as the
// client-side cookie flag of HAProxy's logs.
type RequestStatus uint8

// Request cookie statuses.
const (
	// RequestNone: the request had no persistence cookie (N).
	RequestNone RequestStatus = iota
	// RequestInvalid: the cookie named no server, or was empty (I).
	RequestInvalid
	// RequestDown: the cookie named a server that is stopped (D).
	RequestDown
	// RequestValid: the cookie named a usable server (V).
	RequestValid
	// RequestExpired: the cookie's last-seen date is older than maxidle (E).
	RequestExpired
	// RequestOld: the cookie's first-set date is older than maxlife (O).
	RequestOld
	// RequestUnused: persistence was ignored for this request (U).
	RequestUnused

	numRequestStatus
)

// String returns HAProxy's log letter for the status.
func (s RequestStatus) String() string {
	if s < numRequestStatus {
		return "NIDVEOU"[s : s+1]
	}
	return "?"
}

// RequestOptions are per-request overrides of persistence.
type RequestOptions struct {
	// PersistDown sends the request to the server its cookie names even
	// when that server is stopped ("option persist", "force-persist").
	PersistDown bool
	// Ignore disregards the cookie ("ignore-persist"); it is still
	// stripped from the request as the mode requires.
	Ignore bool
}

// Request is what the request side decided.
type Request struct {
	// Server is the index of the server the cookie sends the request to,
	// or -1 when the request must be load balanced.
	Server int
	// Direct is true when the request goes to Server without load
	// balancing (HAProxy's SF_DIRECT). The caller clears it when the
	// request ends up elsewhere (a full queue, a redispatch on retry).
	Direct bool
	// Status is the cookie's worth, for logs and counters.
	Status RequestStatus
	// Last and First are the cookie's last-seen and first-set dates in
	// Unix seconds, 0 when absent or discarded. The response side needs
	// them to decide whether to refresh the cookie.
	Last, First int64
}

// ReadRequest finds the persistence cookie in h's Cookie headers and the
// server it designates among servers, at Unix time now. It edits h in
// place as HAProxy edits the request it forwards: in insert+indirect mode
// the persistence cookie is removed (the header too when nothing is left),
// in prefix mode the "SRV~" part of the value is removed, and in every mode
// blanks around the '=' of each cookie are dropped. h is not changed when
// there is nothing to change.
func (c *Config) ReadRequest(h http.Header, servers Servers, now int64, opt RequestOptions) Request {
	st := requestState{
		cfg:      c,
		servers:  servers,
		now:      now,
		opt:      opt,
		Request:  Request{Server: -1},
		stripAll: c.Mode == ModeInsert && c.Indirect,
	}
	values := h["Cookie"]
	// kept are the new values once one changed; they share the first
	// unchanged ones with values, and allocate only when one more is
	// kept after a change.
	var kept []string
	changed := false
	for i, v := range values {
		nv, keep := st.header(v)
		if !changed && (nv != v || !keep) {
			changed, kept = true, values[:i:i]
		}
		if changed && keep {
			kept = append(kept, nv)
		}
	}
	switch {
	case !changed:
	case len(kept) == 0:
		delete(h, "Cookie")
	default:
		h["Cookie"] = kept
	}
	return st.Request
}

// requestState carries the decision across every occurrence of the cookie
// in every Cookie header: HAProxy looks at them all, in order, and the
// first that designates a usable server wins.
type requestState struct {
	Request
	cfg      *Config
	servers  Servers
	now      int64
	opt      RequestOptions
	stripAll bool
}

// cookieItem is one "name=value" of a Cookie header, as byte offsets into
// the header value.
type cookieItem struct {
	// start is where the item begins: its delimiter (',' or ';'), or 0
	// for the first item; end is where the next item's delimiter is.
	start, end int
	// name is [nameStart, nameEnd); hasEq tells whether '=' followed.
	nameStart, nameEnd int
	hasEq              bool
	// the value is [valStart, valEnd), without surrounding blanks.
	valStart, valEnd int
}

// scanCookieItem reads the item that starts at pos (first tells that pos is
// the header start rather than a delimiter).
func scanCookieItem(v string, pos int, first bool) cookieItem {
	it := cookieItem{start: pos}
	i := pos
	if !first {
		i++
	}
	for i < len(v) && isBlank(v[i]) {
		i++
	}
	it.nameStart, it.nameEnd = i, i
	for i < len(v) && v[i] != '=' && v[i] != ',' && v[i] != ';' {
		if !isBlank(v[i]) {
			it.nameEnd = i + 1
		}
		i++
	}
	if i < len(v) && v[i] == '=' {
		it.hasEq = true
		i++
		for i < len(v) && isBlank(v[i]) {
			i++
		}
		it.valStart = i
		it.end = cookieValueEnd(v, i)
		it.valEnd = it.end
		for it.valEnd > it.valStart && isBlank(v[it.valEnd-1]) {
			it.valEnd--
		}
	} else {
		it.valStart, it.valEnd, it.end = i, i, i
	}
	return it
}

// cookieValueEnd returns the position of the ',' or ';' that ends the value
// starting at i, skipping quoted strings, or len(v).
func cookieValueEnd(v string, i int) int {
	quoted, escaped := false, false
	for ; i < len(v); i++ {
		switch b := v[i]; {
		case escaped:
			escaped = false
		case quoted:
			if b == '\\' {
				escaped = true
			} else if b == '"' {
				quoted = false
			}
		case b == '"':
			quoted = true
		case b == ',' || b == ';':
			return i
		}
	}
	return i
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' }

// header processes one Cookie header value; it returns the value to
// forward and false when the header must be dropped.
func (st *requestState) header(v string) (string, bool) {
	if !strings.Contains(v, st.cfg.Name) && !strings.Contains(v, " =") &&
		!strings.Contains(v, "= ") && !strings.ContainsRune(v, '\t') {
		// Neither our cookie nor blanks to drop: the common case.
		return v, true
	}

	// The output is built item by item. A run of items to delete (our
	// cookie in insert+indirect mode, and the "$" attributes after it)
	// is only resolved when the next kept item shows up, because how the
	// gap is closed depends on what surrounds it.
	out := make([]byte, 0, len(v))
	runFrom := -1        // index of the first item of the pending deletion run
	preserveHdr := false // some item must stay, so the header survives
	for pos, idx := 0, 0; pos < len(v); idx++ {
		it := scanCookieItem(v, pos, idx == 0)
		pos = it.end
		name := v[it.nameStart:it.nameEnd]

		switch {
		case strings.HasPrefix(name, "$"):
			// RFC 2109 attributes belong to the cookie before them.
			if runFrom < 0 {
				out = append(out, v[it.start:it.end]...)
			}
			continue
		case !it.hasEq:
			// Not a cookie: kept as it is.
			preserveHdr = true
			out = st.keep(out, v, it, runFrom, v[it.nameStart:it.end])
			runFrom = -1
			continue
		}

		value := v[it.valStart:it.valEnd]
		tail := v[it.valEnd:it.end] // blanks after the value
		if name != st.cfg.Name {
			preserveHdr = true
			out = st.keep(out, v, it, runFrom, name+"="+value+tail)
			runFrom = -1
			continue
		}

		forward := st.ours(value)
		switch {
		case st.cfg.Mode == ModePrefix && forward != value:
			preserveHdr = true
			out = st.keep(out, v, it, runFrom, name+"="+forward+tail)
			runFrom = -1
		case st.stripAll:
			if runFrom < 0 {
				runFrom = idx
			}
		default:
			out = append(out, v[it.start:it.nameStart]...)
			out = append(out, name+"="+value+tail...)
		}
	}
	if runFrom >= 0 {
		// The header ends with deleted items: cut at the delimiter
		// before them, or drop the header when nothing else is worth
		// keeping.
		if !preserveHdr || runFrom == 0 {
			return "", false
		}
	}
	if len(out) == 0 {
		return "", false
	}
	return string(out), true
}

// keep appends a kept item (its text from the name on is body) after
// closing a pending deletion run.
func (st *requestState) keep(out []byte, v string, it cookieItem, runFrom int, body string) []byte {
	switch {
	case runFrom < 0:
		// Nothing deleted before: the item keeps its delimiter and
		// blanks.
		out = append(out, v[it.start:it.nameStart]...)
	case runFrom == 0:
		// Everything before was deleted: the item starts the header.
	default:
		// Close the gap: the previous item loses its trailing blanks,
		// then this item's delimiter and one space.
		for len(out) > 0 && isBlank(out[len(out)-1]) {
			out = out[:len(out)-1]
		}
		out = append(out, v[it.start], ' ')
	}
	return append(out, body...)
}

// ours judges one occurrence of the persistence cookie with value value,
// updates the decision, and returns the value to forward (different from
// value in prefix mode only).
func (st *requestState) ours(value string) string {
	c := st.cfg
	srv := value // the server part of the value
	forward := value
	if c.Mode == ModePrefix {
		if i := strings.IndexByte(value, '~'); i >= 0 {
			srv, forward = value[:i], value[i+1:]
		}
	} else if i := strings.IndexByte(value, '|'); i >= 0 {
		srv = value[:i]
		dates := value[i+1:]
		if d := decodeDate(dates); d > 0 {
			st.Last = d
		}
		if j := strings.IndexByte(dates, '|'); j >= 0 {
			if d := decodeDate(dates[j+1:]); d > 0 {
				st.First = d
			}
		}
	}

	// Dates more than a day ahead are as bad as old ones: a clock fix
	// then does not keep clients stuck.
	const aheadLimit = 86400
	if life := c.maxLife(); st.First != 0 && life != 0 && (st.now-st.First > life || st.First-st.now > aheadLimit) {
		st.Status, srv, st.First, st.Last = RequestOld, "", 0, 0
	} else if idle := c.maxIdle(); st.Last != 0 && idle != 0 && (st.now-st.Last > idle || st.Last-st.now > aheadLimit) {
		st.Status, srv, st.First, st.Last = RequestExpired, "", 0, 0
	}

	assigned := st.Server >= 0
	found := false
	if srv != "" && !assigned && !st.opt.Ignore {
		// The first usable server with this value wins; several servers
		// may share a value (e.g. a backup dedicated to an active).
		for i, n := 0, st.servers.Len(); i < n; i++ {
			if st.servers.Cookie(i) != srv {
				continue
			}
			stopped := st.servers.Stopped(i)
			if stopped && !st.opt.PersistDown {
				st.Status = RequestDown
				continue
			}
			st.Status = RequestValid
			if stopped {
				st.Status = RequestDown
			}
			st.Server, st.Direct, found = i, true, true
			break
		}
	}
	if !found && st.Status != RequestDown && st.Status != RequestExpired && st.Status != RequestOld {
		if assigned || st.opt.Ignore {
			st.Status = RequestUnused
		} else {
			st.Status = RequestInvalid
		}
	}
	return forward
}
