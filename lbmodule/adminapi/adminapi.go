// Package adminapi adds the plugin's routes to Caddy's admin API
// (admin.api.haproxy): read the backends' servers, their state and
// counters, and change a server's admin state, weight, health and checks
// at run time, as HAProxy's runtime API does.
//
// Caddy builds admin modules anew on every config load, before the apps:
// the handlers hold no state and find the backends through the registry
// (lbmodule.Backends), which outlives configurations.
package adminapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/metrics"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/runtimeapi"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/stats"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminAPI serves, under /haproxy/ on Caddy's admin endpoint (and adds
// HAProxy's exporter metrics to Caddy's /metrics):
//
//	GET        /haproxy/backends                         every backend with its servers
//	GET        /haproxy/backends/<backend>               one backend
//	GET        /haproxy/backends/<backend>/<server>      one server
//	POST, PUT  /haproxy/backends/<backend>/<server>      change a server (ServerChange)
//	GET        /haproxy/stats, /haproxy/stats/csv        HAProxy's statistics CSV ("show stat")
//	GET        /haproxy/stats/json                       the same rows as HAProxy's JSON
//
// A backend or server may be named by "#<id>". The statistics take the
// query parameters scope=<proxy> (repeatable), up and no-maint, as the
// stats page's modifiers, and show addresses, cookies and algorithms.
type AdminAPI struct{}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.haproxy",
		New: func() caddy.Module { return new(AdminAPI) },
	}
}

// Provision registers the load balancer's Prometheus metrics, under the
// names of HAProxy's exporter, in the configuration's metrics registry,
// which Caddy's admin endpoint serves at /metrics.
func (a *AdminAPI) Provision(ctx caddy.Context) error {
	if reg := ctx.GetMetricsRegistry(); reg != nil {
		return metrics.Register(reg)
	}
	return nil
}

// Routes returns the admin routes.
func (a *AdminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: "/haproxy/", Handler: caddy.AdminHandlerFunc(a.serve)}}
}

// ServerChange is the body of a POST or PUT on a server. Every field is
// optional; they are applied in the order listed, as HAProxy's commands
// would be run one after the other, and the first failure stops.
type ServerChange struct {
	// State is the admin state: "ready", "drain" (no new sessions but
	// persistent ones) or "maint" (none). Neither closes a connection in
	// progress.
	State string `json:"state,omitempty"`
	// Weight is an absolute weight (0..256) or a percentage of the
	// configured one ("50%").
	Weight string `json:"weight,omitempty"`
	// Health forces the operational state: "up", "stopping" or "down".
	Health string `json:"health,omitempty"`
	// HealthChecks turns the server's health checks on or off.
	HealthChecks *bool `json:"health_checks,omitempty"`
	// AgentCheck turns the server's agent queries on or off.
	AgentCheck *bool `json:"agent_check,omitempty"`
}

func (a *AdminAPI) serve(w http.ResponseWriter, r *http.Request) error {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/haproxy/"), "/"), "/")
	if parts[0] == "stats" && len(parts) <= 2 {
		return serveStats(w, r, parts[1:])
	}
	if parts[0] != "backends" || len(parts) > 3 {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("unknown path %s", r.URL.Path)}
	}
	write := r.Method == http.MethodPost || r.Method == http.MethodPut
	if r.Method != http.MethodGet && !(write && len(parts) == 3) {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed", r.Method)}
	}
	switch len(parts) {
	case 1:
		var list []backendView
		for _, b := range runtimeapi.OrderedBackends() {
			list = append(list, viewBackend(b))
		}
		return writeJSON(w, list)
	case 2:
		b := runtimeapi.FindBackend(parts[1])
		if b == nil {
			return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no backend %q", parts[1])}
		}
		return writeJSON(w, viewBackend(b))
	}
	b, s, msg := runtimeapi.FindServer(parts[1] + "/" + parts[2])
	if msg != "" {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("%s/%s: %s", parts[1], parts[2], strings.TrimSpace(msg))}
	}
	if write {
		var change ServerChange
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&change); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("decoding request body: %v", err)}
		}
		if err := apply(b, s, change); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
		}
	}
	return writeJSON(w, viewServer(b, s))
}

// serveStats writes the statistics rows as CSV or JSON.
func serveStats(w http.ResponseWriter, r *http.Request, format []string) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed", r.Method)}
	}
	q := r.URL.Query()
	opts := stats.Options{Scope: q["scope"], UpOnly: q.Has("up"), NoMaint: q.Has("no-maint"), Legends: true}
	rows := stats.Snapshot(opts)
	switch {
	case len(format) == 0 || format[0] == "csv":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		return stats.WriteCSV(w, rows)
	case format[0] == "json":
		w.Header().Set("Content-Type", "application/json")
		return stats.WriteJSON(w, rows)
	}
	return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("unknown statistics format %q (csv or json)", format[0])}
}

// apply makes the changes of c to server s.
func apply(b *lbmodule.Backend, s *lbmodule.Server, c ServerChange) error {
	if c.State != "" {
		st, err := lbmodule.ParseAdminState(c.State)
		if err != nil {
			return err
		}
		if err := b.SetAdminState(s.Name, st); err != nil {
			return err
		}
	}
	if c.Weight != "" {
		if msg := runtimeapi.SetWeight(b, s, c.Weight); msg != "" {
			return fmt.Errorf("weight %q: %s", c.Weight, strings.TrimSpace(msg))
		}
	}
	if c.Health != "" {
		h, err := lbmodule.ParseHealth(c.Health)
		if err != nil {
			return err
		}
		if err := b.ForceHealth(s.Name, h); err != nil {
			return err
		}
	}
	if c.HealthChecks != nil {
		if err := b.SetHealthChecks(s.Name, *c.HealthChecks); err != nil {
			return err
		}
	}
	if c.AgentCheck != nil {
		if err := b.SetAgentCheck(s.Name, *c.AgentCheck); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "\t")
	return enc.Encode(v)
}

// Interface guards
var (
	_ caddy.AdminRouter = (*AdminAPI)(nil)
	_ caddy.Provisioner = (*AdminAPI)(nil)
)
