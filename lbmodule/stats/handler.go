package stats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(new(Handler))
}

// DefaultURI is HAProxy's stats URI prefix when "stats uri" is not given.
const DefaultURI = "/haproxy?stats"

// Handler serves HAProxy's statistics page for the plugin's frontends,
// backends and servers: HTML, CSV (";csv") and JSON (";json"), and the
// admin form that sets server states. Requests whose URI does not start
// with URI, or whose method is not GET, HEAD or POST, pass to the next
// handler, as HAProxy passes them to the backend.
//
// Authentication is not the handler's: put basic_auth before it (the
// haproxy adapter does so for "stats auth").
type Handler struct {
	// URI is the prefix the request URI (path and query) must start with;
	// default "/haproxy?stats". Modifiers follow it anywhere: ";csv",
	// ";json", ";up", ";no-maint", ";norefresh", ";st=<code>".
	URI string `json:"uri,omitempty"`
	// Refresh makes the page reload itself this often (a Refresh header),
	// unless ";norefresh" is given. Zero disables it.
	Refresh caddy.Duration `json:"refresh,omitempty"`
	// HideVersion leaves HAProxy's version line out of the page.
	HideVersion bool `json:"hide_version,omitempty"`
	// ShowLegends adds the server address, cookie and algorithm to the
	// page's tooltips and to the CSV and JSON (addr, cookie, algo).
	ShowLegends bool `json:"show_legends,omitempty"`
	// ShowNode shows the node name in the page head; Node is the name,
	// default the host name.
	ShowNode bool   `json:"show_node,omitempty"`
	Node     string `json:"node,omitempty"`
	// ShowDesc shows Description in the page head.
	ShowDesc    bool   `json:"show_desc,omitempty"`
	Description string `json:"description,omitempty"`
	// Scope lists the proxies shown; empty shows all.
	Scope []string `json:"scope,omitempty"`
	// Admin enables the admin form (POST) that sets servers' admin state,
	// health and weight: true for every request that reaches the page, or
	// a matcher set the request must match (HAProxy's "stats admin if").
	Admin json.RawMessage `json:"admin,omitempty"`

	// AdminMatcherRaw holds the matcher set of Admin while it is loaded.
	AdminMatcherRaw caddy.ModuleMap `json:"-" caddy:"namespace=http.matchers"`

	adminAll   bool
	adminMatch caddyhttp.MatcherSet
	started    time.Time
}

// CaddyModule returns the Caddy module information.
func (*Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.haproxy_stats",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision reads the admin setting.
func (h *Handler) Provision(ctx caddy.Context) error {
	if h.URI == "" {
		h.URI = DefaultURI
	}
	h.started = time.Now()
	switch raw := bytes.TrimSpace(h.Admin); {
	case len(raw) == 0, string(raw) == "false":
	case string(raw) == "true":
		h.adminAll = true
	default:
		if err := json.Unmarshal(raw, &h.AdminMatcherRaw); err != nil {
			return fmt.Errorf("admin: want true, false or a matcher set: %v", err)
		}
		mods, err := ctx.LoadModule(h, "AdminMatcherRaw")
		if err != nil {
			return fmt.Errorf("admin: %v", err)
		}
		var sets caddyhttp.MatcherSets
		if err := sets.FromInterface([]map[string]any{mods.(map[string]any)}); err != nil {
			return fmt.Errorf("admin: %v", err)
		}
		h.adminMatch = sets[0]
	}
	if h.ShowNode && h.Node == "" {
		h.Node = hostname()
	}
	return nil
}

// Validate checks the configuration.
func (h *Handler) Validate() error {
	if h.Refresh < 0 {
		return fmt.Errorf("negative refresh")
	}
	return nil
}

// request is one request to the page, its modifiers read.
type request struct {
	csv, json, up, noMaint, noRefresh bool
	status                            string
	search                            string
	admin                             bool
}

// ServeHTTP answers requests under URI and passes the others on.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	uri := r.URL.RequestURI()
	if !strings.HasPrefix(h.URI, "/") {
		uri = r.RequestURI
	}
	if !strings.HasPrefix(uri, h.URI) {
		return next.ServeHTTP(w, r)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		return next.ServeHTTP(w, r)
	}
	req := parseModifiers(uri[len(h.URI):])
	req.admin = h.isAdmin(r)
	w.Header().Set("Cache-Control", "no-cache")
	if r.Method == http.MethodPost {
		return h.serveAdmin(w, r, req)
	}
	// HAProxy sends the Refresh header with the exports too.
	if h.Refresh > 0 && !req.noRefresh {
		w.Header().Set("Refresh", fmt.Sprint(int64(time.Duration(h.Refresh)/time.Second)))
	}
	opts := Options{Scope: h.Scope, UpOnly: req.up, NoMaint: req.noMaint, Legends: h.ShowLegends}
	if req.search != "" {
		opts.Scope = h.searchScope(req.search)
	}
	rows := Snapshot(opts)
	switch {
	case req.csv:
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return nil
		}
		return WriteCSV(w, rows)
	case req.json:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return nil
		}
		return WriteJSON(w, rows)
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(h.renderHTML(rows, req, opts))
	return err
}

// searchScope narrows the proxies to those whose name contains text (the
// page's "Scope" box).
func (h *Handler) searchScope(text string) []string {
	var names []string
	for _, p := range Proxies() {
		if strings.Contains(p.Name, text) && (len(h.Scope) == 0 || slices.Contains(h.Scope, p.Name)) {
			names = append(names, p.Name)
		}
	}
	if names == nil {
		names = []string{"\x00"}
	}
	return names
}

// parseModifiers reads the ";csv"-style modifiers and the "scope=" search
// from the part of the URI after the prefix.
func parseModifiers(rest string) request {
	var req request
	for i := 0; i < len(rest); i++ {
		if rest[i] != ';' && rest[i] != '?' && rest[i] != '&' {
			continue
		}
		tail := rest[i+1:]
		switch {
		case strings.HasPrefix(tail, "csv"):
			req.csv = true
		case strings.HasPrefix(tail, "json-schema"):
		case strings.HasPrefix(tail, "json"):
			req.json = true
		case strings.HasPrefix(tail, "up"):
			req.up = true
		case strings.HasPrefix(tail, "no-maint"):
			req.noMaint = true
		case strings.HasPrefix(tail, "norefresh"):
			req.noRefresh = true
		case strings.HasPrefix(tail, "st="):
			req.status, _, _ = strings.Cut(tail[3:], ";")
		case strings.HasPrefix(tail, "scope="):
			v, _, _ := strings.Cut(tail[6:], ";")
			v, _, _ = strings.Cut(v, "&")
			req.search = v
		}
	}
	return req
}

// isAdmin reports whether r may use the admin form.
func (h *Handler) isAdmin(r *http.Request) bool {
	if h.adminAll {
		return true
	}
	if h.adminMatch == nil {
		return false
	}
	ok, err := h.adminMatch.MatchWithError(r)
	return ok && err == nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)

// caddyVersion is Caddy's version, e.g. "v2.11.9".
func caddyVersion() string {
	simple, _ := caddy.Version()
	return simple
}
