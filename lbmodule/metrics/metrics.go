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
	// name follows haproxy_<object>_.
	name  string
	field string
	help  string
	kind  prometheus.ValueType
	// scale converts the field's unit: 0.001 for milliseconds to seconds.
	scale float64
}

func gauge(name, field, help string) metric {
	return metric{name, field, help, prometheus.GaugeValue, 1}
}

func counter(name, field, help string) metric {
	return metric{name, field, help, prometheus.CounterValue, 1}
}

func millis(m metric) metric { m.scale = 0.001; return m }

// Help texts shared by several objects, HAProxy's words.
const (
	helpScur     = "Number of current sessions on the frontend, backend or server"
	helpSmax     = "Highest value of current sessions encountered since process started"
	helpSlim     = "Frontend/listener/server's maxconn, backend's fullconn"
	helpStot     = "Total number of sessions since process started"
	helpBin      = "Total number of request bytes since process started"
	helpBout     = "Total number of response bytes since process started"
	helpDreq     = "Total number of denied requests since process started"
	helpDresp    = "Total number of denied responses since process started"
	helpQcur     = "Number of current queued connections"
	helpQmax     = "Highest value of queued connections encountered since process started"
	helpEcon     = "Total number of failed connections to server since the worker process started"
	helpEresp    = "Total number of invalid responses since the worker process started"
	helpWretr    = "Total number of server connection retries since the worker process started"
	helpWredis   = "Total number of server redispatches due to connection failures since the worker process started"
	helpWeight   = "Server's effective weight, or sum of active servers' effective weights for a backend"
	helpChkdown  = "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started"
	helpLastchg  = "How long ago the last server state changed, in seconds"
	helpDowntime = "Total time spent in DOWN state, for server or backend"
	helpLbtot    = "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)"
	helpRateMax  = "Highest value of sessions per second observed since the worker process started"
	helpCliAbrt  = "Total number of requests or connections aborted by the client since the worker process started"
	helpSrvAbrt  = "Total number of requests or connections aborted by the server since the worker process started"
	helpLastsess = "How long ago some traffic was seen on this object on this worker process, in seconds"
	helpQtime    = "Avg. queue time for last 1024 successful connections."
	helpCtime    = "Avg. connect time for last 1024 successful connections."
	helpRtime    = "Avg. response time for last 1024 successful connections."
	helpTtime    = "Avg. total time for last 1024 successful connections."
	helpWrew     = "Total number of failed HTTP header rewrites since the worker process started"
	helpConnect  = "Total number of outgoing connection attempts on this backend/server since the worker process started"
	helpReuse    = "Total number of reused connection on this backend/server since the worker process started"
	helpQtimeMax = "Maximum observed time spent in the queue"
	helpCtimeMax = "Maximum observed time spent waiting for a connection to complete"
	helpRtimeMax = "Maximum observed time spent waiting for a server response"
	helpTtimeMax = "Maximum observed total request+response time (request+queue+connect+response+processing)"
	helpEint     = "Total number of internal errors since process started"
	helpUweight  = "Server's user weight, or sum of active servers' user weights for a backend"
	helpReqTot   = "Total number of HTTP requests processed by this object since the worker process started"
	helpCompIn   = "Total number of bytes submitted to the HTTP compressor for this object since the worker process started"
	helpCompOut  = "Total number of bytes emitted by the HTTP compressor for this object since the worker process started"
	helpCompByp  = "Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)"
	helpCompRsp  = "Total number of HTTP responses that were compressed for this object since the worker process started"
	helpCacheLk  = "Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started"
	helpCacheHit = "Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started"
	helpStatus   = "Current status of the service, per state label value."
	helpHrsp     = "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"
)

// The metrics of each object, in promex's order. "status" and
// "http_responses_total" are handled apart (labelled by state and code).
var (
	frontendMetrics = []metric{
		gauge("current_sessions", "scur", helpScur),
		gauge("max_sessions", "smax", helpSmax),
		gauge("limit_sessions", "slim", helpSlim),
		counter("sessions_total", "stot", helpStot),
		counter("bytes_in_total", "bin", helpBin),
		counter("bytes_out_total", "bout", helpBout),
		counter("requests_denied_total", "dreq", helpDreq),
		counter("responses_denied_total", "dresp", helpDresp),
		counter("request_errors_total", "ereq", "Total number of request errors since process started"),
		gauge("limit_session_rate", "rate_lim", "Configured limit on new sessions per second"),
		gauge("max_session_rate", "rate_max", helpRateMax),
		gauge("http_requests_rate_max", "req_rate_max", "Highest value of http requests observed since the worker process started"),
		counter("http_requests_total", "req_tot", helpReqTot),
		counter("http_comp_bytes_in_total", "comp_in", helpCompIn),
		counter("http_comp_bytes_out_total", "comp_out", helpCompOut),
		counter("http_comp_bytes_bypassed_total", "comp_byp", helpCompByp),
		counter("http_comp_responses_total", "comp_rsp", helpCompRsp),
		gauge("connections_rate_max", "conn_rate_max", "Highest value of connections per second observed since the worker process started"),
		counter("connections_total", "conn_tot", "Total number of new connections accepted on this frontend since the worker process started"),
		counter("intercepted_requests_total", "intercepted", "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started"),
		counter("denied_connections_total", "dcon", "Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started"),
		counter("denied_sessions_total", "dses", "Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started"),
		counter("failed_header_rewriting_total", "wrew", helpWrew),
		counter("http_cache_lookups_total", "cache_lookups", helpCacheLk),
		counter("http_cache_hits_total", "cache_hits", helpCacheHit),
		counter("internal_errors_total", "eint", helpEint),
	}
	backendMetrics = []metric{
		gauge("current_queue", "qcur", helpQcur),
		gauge("max_queue", "qmax", helpQmax),
		gauge("current_sessions", "scur", helpScur),
		gauge("max_sessions", "smax", helpSmax),
		gauge("limit_sessions", "slim", helpSlim),
		counter("sessions_total", "stot", helpStot),
		counter("bytes_in_total", "bin", helpBin),
		counter("bytes_out_total", "bout", helpBout),
		counter("requests_denied_total", "dreq", helpDreq),
		counter("responses_denied_total", "dresp", helpDresp),
		counter("connection_errors_total", "econ", helpEcon),
		counter("response_errors_total", "eresp", helpEresp),
		counter("retry_warnings_total", "wretr", helpWretr),
		counter("redispatch_warnings_total", "wredis", helpWredis),
		gauge("weight", "weight", helpWeight),
		gauge("active_servers", "act", "Total number of active UP servers with a non-zero weight"),
		gauge("backup_servers", "bck", "Total number of backup UP servers with a non-zero weight"),
		counter("check_up_down_total", "chkdown", helpChkdown),
		gauge("check_last_change_seconds", "lastchg", helpLastchg),
		counter("downtime_seconds_total", "downtime", helpDowntime),
		counter("loadbalanced_total", "lbtot", helpLbtot),
		gauge("max_session_rate", "rate_max", helpRateMax),
		counter("http_requests_total", "req_tot", helpReqTot),
		counter("client_aborts_total", "cli_abrt", helpCliAbrt),
		counter("server_aborts_total", "srv_abrt", helpSrvAbrt),
		counter("http_comp_bytes_in_total", "comp_in", helpCompIn),
		counter("http_comp_bytes_out_total", "comp_out", helpCompOut),
		counter("http_comp_bytes_bypassed_total", "comp_byp", helpCompByp),
		counter("http_comp_responses_total", "comp_rsp", helpCompRsp),
		gauge("last_session_seconds", "lastsess", helpLastsess),
		millis(gauge("queue_time_average_seconds", "qtime", helpQtime)),
		millis(gauge("connect_time_average_seconds", "ctime", helpCtime)),
		millis(gauge("response_time_average_seconds", "rtime", helpRtime)),
		millis(gauge("total_time_average_seconds", "ttime", helpTtime)),
		counter("failed_header_rewriting_total", "wrew", helpWrew),
		counter("connection_attempts_total", "connect", helpConnect),
		counter("connection_reuses_total", "reuse", helpReuse),
		counter("http_cache_lookups_total", "cache_lookups", helpCacheLk),
		counter("http_cache_hits_total", "cache_hits", helpCacheHit),
		millis(gauge("max_queue_time_seconds", "qtime_max", helpQtimeMax)),
		millis(gauge("max_connect_time_seconds", "ctime_max", helpCtimeMax)),
		millis(gauge("max_response_time_seconds", "rtime_max", helpRtimeMax)),
		millis(gauge("max_total_time_seconds", "ttime_max", helpTtimeMax)),
		counter("internal_errors_total", "eint", helpEint),
		gauge("uweight", "uweight", helpUweight),
	}
	serverMetrics = []metric{
		gauge("current_queue", "qcur", helpQcur),
		gauge("max_queue", "qmax", helpQmax),
		gauge("current_sessions", "scur", helpScur),
		gauge("max_sessions", "smax", helpSmax),
		gauge("limit_sessions", "slim", helpSlim),
		counter("sessions_total", "stot", helpStot),
		counter("bytes_in_total", "bin", helpBin),
		counter("bytes_out_total", "bout", helpBout),
		counter("responses_denied_total", "dresp", helpDresp),
		counter("connection_errors_total", "econ", helpEcon),
		counter("response_errors_total", "eresp", helpEresp),
		counter("retry_warnings_total", "wretr", helpWretr),
		counter("redispatch_warnings_total", "wredis", helpWredis),
		gauge("weight", "weight", helpWeight),
		counter("check_failures_total", "chkfail", "Total number of failed individual health checks per server/backend, since the worker process started"),
		counter("check_up_down_total", "chkdown", helpChkdown),
		gauge("check_last_change_seconds", "lastchg", helpLastchg),
		counter("downtime_seconds_total", "downtime", helpDowntime),
		gauge("queue_limit", "qlimit", "Limit on the number of connections in queue, for servers only (maxqueue argument)"),
		gauge("current_throttle", "throttle", "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 to 100%)"),
		counter("loadbalanced_total", "lbtot", helpLbtot),
		gauge("max_session_rate", "rate_max", helpRateMax),
		gauge("check_code", "check_code", "layer5-7 code, if available of the last health check."),
		millis(gauge("check_duration_seconds", "check_duration", "Total duration of the latest server health check, in seconds.")),
		counter("client_aborts_total", "cli_abrt", helpCliAbrt),
		counter("server_aborts_total", "srv_abrt", helpSrvAbrt),
		gauge("last_session_seconds", "lastsess", helpLastsess),
		millis(gauge("queue_time_average_seconds", "qtime", helpQtime)),
		millis(gauge("connect_time_average_seconds", "ctime", helpCtime)),
		millis(gauge("response_time_average_seconds", "rtime", helpRtime)),
		millis(gauge("total_time_average_seconds", "ttime", helpTtime)),
		counter("failed_header_rewriting_total", "wrew", helpWrew),
		counter("connection_attempts_total", "connect", helpConnect),
		counter("connection_reuses_total", "reuse", helpReuse),
		gauge("idle_connections_current", "srv_icur", "Current number of idle connections available for reuse on this server"),
		gauge("idle_connections_limit", "src_ilim", "Limit on the number of available idle connections on this server (server 'pool_max_conn' directive)"),
		millis(gauge("max_queue_time_seconds", "qtime_max", helpQtimeMax)),
		millis(gauge("max_connect_time_seconds", "ctime_max", helpCtimeMax)),
		millis(gauge("max_response_time_seconds", "rtime_max", helpRtimeMax)),
		millis(gauge("max_total_time_seconds", "ttime_max", helpTtimeMax)),
		counter("internal_errors_total", "eint", helpEint),
		gauge("unsafe_idle_connections_current", "idle_conn_cur", "Current number of unsafe idle connections"),
		gauge("safe_idle_connections_current", "safe_conn_cur", "Current number of safe idle connections"),
		gauge("used_connections_current", "used_conn_cur", "Current number of connections in use"),
		gauge("need_connections_current", "need_conn_est", "Estimated needed number of connections"),
		gauge("uweight", "uweight", helpUweight),
	}
)

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

func newObject(kind string, metrics []metric, labels ...string) *object {
	o := &object{labels: labels, metrics: metrics}
	for _, m := range metrics {
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
		frontend: newObject("frontend", frontendMetrics, "proxy"),
		backend:  newObject("backend", backendMetrics, "proxy"),
		server:   newObject("server", serverMetrics, "proxy", "server"),
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
