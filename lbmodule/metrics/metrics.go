// Package metrics exposes the load balancer's statistics as Prometheus
// metrics under the names of HAProxy 2.6's built-in exporter (promex):
// haproxy_frontend_*, haproxy_backend_* and haproxy_server_*, labelled
// proxy (and server), with the same units (seconds) and the same "state"
// and "code" labels. Like promex, it reads the statistics rows, so a
// metric always agrees with the stats page and "show stat".
package metrics

import (
	"errors"
	"math"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/stats"
)

// metric maps one statistics field to one exporter metric.
type metric struct {
	// objects are the kinds of rows that have the metric.
	objects objectKinds
	// name follows haproxy_<object>_.
	name  string
	field string
	help  string
	kind  prometheus.ValueType
	// scale converts the field's unit: 0.001 for milliseconds to seconds.
	scale float64
}

// objectKinds is a set of kinds of statistics rows.
type objectKinds uint8

const (
	onFrontend objectKinds = 1 << iota
	onBackend
	onServer
	onAll = onFrontend | onBackend | onServer
)

func gauge(objects objectKinds, name, field, help string) metric {
	return metric{objects, name, field, help, prometheus.GaugeValue, 1}
}

func counter(objects objectKinds, name, field, help string) metric {
	return metric{objects, name, field, help, prometheus.CounterValue, 1}
}

func millis(m metric) metric { m.scale = 0.001; return m }

// Help texts of the metrics handled apart, HAProxy's words.
const (
	helpStatus = "Current status of the service, per state label value."
	helpHrsp   = "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"
)

// metrics is every exporter metric, in promex's order, which is each
// object's order too. "status" and "http_responses_total" are handled
// apart (labelled by state and code).
var metrics = []metric{
	gauge(onBackend|onServer, "current_queue", "qcur", "Number of current queued connections"),
	gauge(onBackend|onServer, "max_queue", "qmax", "Highest value of queued connections encountered since process started"),
	gauge(onAll, "current_sessions", "scur", "Number of current sessions on the frontend, backend or server"),
	gauge(onAll, "max_sessions", "smax", "Highest value of current sessions encountered since process started"),
	gauge(onAll, "limit_sessions", "slim", "Frontend/listener/server's maxconn, backend's fullconn"),
	counter(onAll, "sessions_total", "stot", "Total number of sessions since process started"),
	counter(onAll, "bytes_in_total", "bin", "Total number of request bytes since process started"),
	counter(onAll, "bytes_out_total", "bout", "Total number of response bytes since process started"),
	counter(onFrontend|onBackend, "requests_denied_total", "dreq", "Total number of denied requests since process started"),
	counter(onAll, "responses_denied_total", "dresp", "Total number of denied responses since process started"),
	counter(onFrontend, "request_errors_total", "ereq", "Total number of request errors since process started"),
	gauge(onFrontend, "limit_session_rate", "rate_lim", "Configured limit on new sessions per second"),
	counter(onBackend|onServer, "connection_errors_total", "econ", "Total number of failed connections to server since the worker process started"),
	counter(onBackend|onServer, "response_errors_total", "eresp", "Total number of invalid responses since the worker process started"),
	counter(onBackend|onServer, "retry_warnings_total", "wretr", "Total number of server connection retries since the worker process started"),
	counter(onBackend|onServer, "redispatch_warnings_total", "wredis", "Total number of server redispatches due to connection failures since the worker process started"),
	gauge(onBackend|onServer, "weight", "weight", "Server's effective weight, or sum of active servers' effective weights for a backend"),
	gauge(onBackend, "active_servers", "act", "Total number of active UP servers with a non-zero weight"),
	gauge(onBackend, "backup_servers", "bck", "Total number of backup UP servers with a non-zero weight"),
	counter(onServer, "check_failures_total", "chkfail", "Total number of failed individual health checks per server/backend, since the worker process started"),
	counter(onBackend|onServer, "check_up_down_total", "chkdown", "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started"),
	gauge(onBackend|onServer, "check_last_change_seconds", "lastchg", "How long ago the last server state changed, in seconds"),
	counter(onBackend|onServer, "downtime_seconds_total", "downtime", "Total time spent in DOWN state, for server or backend"),
	gauge(onServer, "queue_limit", "qlimit", "Limit on the number of connections in queue, for servers only (maxqueue argument)"),
	gauge(onServer, "current_throttle", "throttle", "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 to 100%)"),
	counter(onBackend|onServer, "loadbalanced_total", "lbtot", "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)"),
	gauge(onAll, "max_session_rate", "rate_max", "Highest value of sessions per second observed since the worker process started"),
	gauge(onFrontend, "http_requests_rate_max", "req_rate_max", "Highest value of http requests observed since the worker process started"),
	counter(onFrontend|onBackend, "http_requests_total", "req_tot", "Total number of HTTP requests processed by this object since the worker process started"),
	gauge(onServer, "check_code", "check_code", "layer5-7 code, if available of the last health check."),
	millis(gauge(onServer, "check_duration_seconds", "check_duration", "Total duration of the latest server health check, in seconds.")),
	counter(onBackend|onServer, "client_aborts_total", "cli_abrt", "Total number of requests or connections aborted by the client since the worker process started"),
	counter(onBackend|onServer, "server_aborts_total", "srv_abrt", "Total number of requests or connections aborted by the server since the worker process started"),
	counter(onFrontend|onBackend, "http_comp_bytes_in_total", "comp_in", "Total number of bytes submitted to the HTTP compressor for this object since the worker process started"),
	counter(onFrontend|onBackend, "http_comp_bytes_out_total", "comp_out", "Total number of bytes emitted by the HTTP compressor for this object since the worker process started"),
	counter(onFrontend|onBackend, "http_comp_bytes_bypassed_total", "comp_byp", "Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)"),
	counter(onFrontend|onBackend, "http_comp_responses_total", "comp_rsp", "Total number of HTTP responses that were compressed for this object since the worker process started"),
	gauge(onFrontend, "connections_rate_max", "conn_rate_max", "Highest value of connections per second observed since the worker process started"),
	counter(onFrontend, "connections_total", "conn_tot", "Total number of new connections accepted on this frontend since the worker process started"),
	counter(onFrontend, "intercepted_requests_total", "intercepted", "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started"),
	counter(onFrontend, "denied_connections_total", "dcon", "Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started"),
	counter(onFrontend, "denied_sessions_total", "dses", "Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started"),
	gauge(onBackend|onServer, "last_session_seconds", "lastsess", "How long ago some traffic was seen on this object on this worker process, in seconds"),
	millis(gauge(onBackend|onServer, "queue_time_average_seconds", "qtime", "Avg. queue time for last 1024 successful connections.")),
	millis(gauge(onBackend|onServer, "connect_time_average_seconds", "ctime", "Avg. connect time for last 1024 successful connections.")),
	millis(gauge(onBackend|onServer, "response_time_average_seconds", "rtime", "Avg. response time for last 1024 successful connections.")),
	millis(gauge(onBackend|onServer, "total_time_average_seconds", "ttime", "Avg. total time for last 1024 successful connections.")),
	counter(onAll, "failed_header_rewriting_total", "wrew", "Total number of failed HTTP header rewrites since the worker process started"),
	counter(onBackend|onServer, "connection_attempts_total", "connect", "Total number of outgoing connection attempts on this backend/server since the worker process started"),
	counter(onBackend|onServer, "connection_reuses_total", "reuse", "Total number of reused connection on this backend/server since the worker process started"),
	counter(onFrontend|onBackend, "http_cache_lookups_total", "cache_lookups", "Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started"),
	counter(onFrontend|onBackend, "http_cache_hits_total", "cache_hits", "Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started"),
	gauge(onServer, "idle_connections_current", "srv_icur", "Current number of idle connections available for reuse on this server"),
	gauge(onServer, "idle_connections_limit", "src_ilim", "Limit on the number of available idle connections on this server (server 'pool_max_conn' directive)"),
	millis(gauge(onBackend|onServer, "max_queue_time_seconds", "qtime_max", "Maximum observed time spent in the queue")),
	millis(gauge(onBackend|onServer, "max_connect_time_seconds", "ctime_max", "Maximum observed time spent waiting for a connection to complete")),
	millis(gauge(onBackend|onServer, "max_response_time_seconds", "rtime_max", "Maximum observed time spent waiting for a server response")),
	millis(gauge(onBackend|onServer, "max_total_time_seconds", "ttime_max", "Maximum observed total request+response time (request+queue+connect+response+processing)")),
	counter(onAll, "internal_errors_total", "eint", "Total number of internal errors since process started"),
	gauge(onServer, "unsafe_idle_connections_current", "idle_conn_cur", "Current number of unsafe idle connections"),
	gauge(onServer, "safe_idle_connections_current", "safe_conn_cur", "Current number of safe idle connections"),
	gauge(onServer, "used_connections_current", "used_conn_cur", "Current number of connections in use"),
	gauge(onServer, "need_connections_current", "need_conn_est", "Estimated needed number of connections"),
	gauge(onBackend|onServer, "uweight", "uweight", "Server's user weight, or sum of active servers' user weights for a backend"),
}

// The values of the "state" label of the status metrics, and of the
// "code" label of http_responses_total, in promex's order.
var (
	proxyStates       = []string{"DOWN", "UP"}
	serverStates      = []string{"DOWN", "UP", "MAINT", "DRAIN", "NOLB"}
	checkStates       = []string{"HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT", "L7RSP", "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK"}
	responseCodes     = []string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"}
	responseCodeField = []string{"hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"}
)

// object is the metrics of one kind of row.
type object struct {
	labels    []string
	metrics   []metric
	descs     []*prometheus.Desc
	fields    []stats.Field
	status    *prometheus.Desc
	responses *prometheus.Desc
	check     *prometheus.Desc
}

func newObject(kind string, kinds objectKinds, labels ...string) *object {
	o := &object{labels: labels}
	for _, m := range metrics {
		if m.objects&kinds == 0 {
			continue
		}
		o.metrics = append(o.metrics, m)
		o.descs = append(o.descs, prometheus.NewDesc("haproxy_"+kind+"_"+m.name, m.help, labels, nil))
		o.fields = append(o.fields, fieldByName(m.field))
	}
	state := append(append([]string(nil), labels...), "state")
	o.status = prometheus.NewDesc("haproxy_"+kind+"_status", helpStatus, state, nil)
	o.responses = prometheus.NewDesc("haproxy_"+kind+"_http_responses_total", helpHrsp, append(append([]string(nil), labels...), "code"), nil)
	if kind == "server" {
		o.check = prometheus.NewDesc("haproxy_server_check_status", "Status of last health check, per state label value.", state, nil)
	}
	return o
}

func fieldByName(name string) stats.Field {
	for i, f := range stats.Fields {
		if f.Name == name {
			return stats.Field(i)
		}
	}
	panic("metrics: no statistics field " + name)
}

// Collector is a prometheus.Collector of every frontend, backend and
// server of the registry, read at each scrape.
type Collector struct {
	frontend, backend, server *object
}

// NewCollector builds the collector.
func NewCollector() *Collector {
	return &Collector{
		frontend: newObject("frontend", onFrontend, "proxy"),
		backend:  newObject("backend", onBackend, "proxy"),
		server:   newObject("server", onServer, "proxy", "server"),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, o := range []*object{c.frontend, c.backend, c.server} {
		for _, d := range o.descs {
			ch <- d
		}
		ch <- o.status
		ch <- o.responses
		if o.check != nil {
			ch <- o.check
		}
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range stats.Snapshot(stats.Options{}) {
		switch r.Type {
		case stats.Frontend:
			c.frontend.collect(ch, &r, proxyStates, frontendState(&r), r.Proxy())
		case stats.Backend:
			c.backend.collect(ch, &r, proxyStates, r.Get(stats.FieldStatus).String(), r.Proxy())
		case stats.Server:
			c.server.collect(ch, &r, serverStates, serverState(&r), r.Proxy(), r.Get(stats.FieldSvname).String())
		}
	}
}

func (o *object) collect(ch chan<- prometheus.Metric, r *stats.Row, states []string, state string, labels ...string) {
	for i, m := range o.metrics {
		v := r.Get(o.fields[i])
		value := math.NaN()
		if !v.Empty() {
			value = float64(v.Num()) * m.scale
		}
		ch <- prometheus.MustNewConstMetric(o.descs[i], m.kind, value, labels...)
	}
	for _, s := range states {
		ch <- prometheus.MustNewConstMetric(o.status, prometheus.GaugeValue, boolValue(s == state), append(labels, s)...)
	}
	if o.check != nil {
		if code := strings.TrimPrefix(r.Get(stats.FieldCheckStatus).String(), "* "); code != "" {
			for _, s := range checkStates {
				ch <- prometheus.MustNewConstMetric(o.check, prometheus.GaugeValue, boolValue(s == code), append(labels, s)...)
			}
		}
	}
	for i, code := range responseCodes {
		v := r.Get(fieldByName(responseCodeField[i]))
		if v.Empty() {
			continue
		}
		ch <- prometheus.MustNewConstMetric(o.responses, prometheus.CounterValue, float64(v.Num()), append(labels, code)...)
	}
}

// frontendState is promex's UP for an open frontend, DOWN otherwise.
func frontendState(r *stats.Row) string {
	if r.Get(stats.FieldStatus).String() == "OPEN" {
		return "UP"
	}
	return "DOWN"
}

// serverState reads the state label out of the stats page's status text
// ("UP 1/3", "no check", "DRAIN", "MAINT (via …)" …).
func serverState(r *stats.Row) string {
	status := r.Get(stats.FieldStatus).String()
	for _, s := range []string{"MAINT", "DRAIN", "NOLB", "DOWN"} {
		if strings.HasPrefix(status, s) {
			return s
		}
	}
	return "UP"
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Register adds a collector to the registry, once: Caddy may provision
// admin modules more than once for one configuration.
func Register(reg prometheus.Registerer) error {
	err := reg.Register(NewCollector())
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		return nil
	}
	return err
}
