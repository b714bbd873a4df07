package stats

// Field is the position of a statistic in HAProxy 2.6's CSV rows (the
// "pos" of its JSON output). The names, order and tags below are
// HAProxy's; new fields are only ever appended there.
type Field int

// The static fields, in HAProxy's order.
const (
	FieldPxname Field = iota
	FieldSvname
	FieldQcur
	FieldQmax
	FieldScur
	FieldSmax
	FieldSlim
	FieldStot
	FieldBin
	FieldBout
	FieldDreq
	FieldDresp
	FieldEreq
	FieldEcon
	FieldEresp
	FieldWretr
	FieldWredis
	FieldStatus
	FieldWeight
	FieldAct
	FieldBck
	FieldChkfail
	FieldChkdown
	FieldLastchg
	FieldDowntime
	FieldQlimit
	FieldPid
	FieldIid
	FieldSid
	FieldThrottle
	FieldLbtot
	FieldTracked
	FieldType
	FieldRate
	FieldRateLim
	FieldRateMax
	FieldCheckStatus
	FieldCheckCode
	FieldCheckDuration
	FieldHrsp1xx
	FieldHrsp2xx
	FieldHrsp3xx
	FieldHrsp4xx
	FieldHrsp5xx
	FieldHrspOther
	FieldHanafail
	FieldReqRate
	FieldReqRateMax
	FieldReqTot
	FieldCliAbrt
	FieldSrvAbrt
	FieldCompIn
	FieldCompOut
	FieldCompByp
	FieldCompRsp
	FieldLastsess
	FieldLastChk
	FieldLastAgt
	FieldQtime
	FieldCtime
	FieldRtime
	FieldTtime
	FieldAgentStatus
	FieldAgentCode
	FieldAgentDuration
	FieldCheckDesc
	FieldAgentDesc
	FieldCheckRise
	FieldCheckFall
	FieldCheckHealth
	FieldAgentRise
	FieldAgentFall
	FieldAgentHealth
	FieldAddr
	FieldCookie
	FieldMode
	FieldAlgo
	FieldConnRate
	FieldConnRateMax
	FieldConnTot
	FieldIntercepted
	FieldDcon
	FieldDses
	FieldWrew
	FieldConnect
	FieldReuse
	FieldCacheLookups
	FieldCacheHits
	FieldSrvIcur
	FieldSrcIlim
	FieldQtimeMax
	FieldCtimeMax
	FieldRtimeMax
	FieldTtimeMax
	FieldEint
	FieldIdleConnCur
	FieldSafeConnCur
	FieldUsedConnCur
	FieldNeedConnEst
	FieldUweight
	FieldAggServerStatus
	FieldAggServerCheckStatus
	FieldAggCheckStatus
	// NumFields is the number of static fields.
	NumFields int = iota
)

// FieldInfo describes a field: its name and the tags of HAProxy's JSON
// output.
type FieldInfo struct {
	// Name is the CSV column name.
	Name string
	// Origin, Nature and Scope are the JSON "tags".
	Origin, Nature, Scope string
	// Type is the JSON value type: u32, u64, s32 or str.
	Type string
}

// Fields describes the static fields, indexed by Field.
var Fields = [NumFields]FieldInfo{
	{"pxname", "Key", "Name", "Service", "str"},
	{"svname", "Key", "Name", "Service", "str"},
	{"qcur", "Metric", "Gauge", "Process", "u32"},
	{"qmax", "Metric", "Max", "Process", "u32"},
	{"scur", "Metric", "Gauge", "Process", "u32"},
	{"smax", "Metric", "Max", "Process", "u32"},
	{"slim", "Config", "Limit", "Process", "u32"},
	{"stot", "Metric", "Counter", "Process", "u64"},
	{"bin", "Metric", "Counter", "Process", "u64"},
	{"bout", "Metric", "Counter", "Process", "u64"},
	{"dreq", "Metric", "Counter", "Process", "u64"},
	{"dresp", "Metric", "Counter", "Process", "u64"},
	{"ereq", "Metric", "Counter", "Process", "u64"},
	{"econ", "Metric", "Counter", "Process", "u64"},
	{"eresp", "Metric", "Counter", "Process", "u64"},
	{"wretr", "Metric", "Counter", "Process", "u64"},
	{"wredis", "Metric", "Counter", "Process", "u64"},
	{"status", "Status", "Gauge", "Process", "str"},
	{"weight", "Metric", "Avg", "Process", "u32"},
	{"act", "Status", "Gauge", "Process", "u32"},
	{"bck", "Status", "Gauge", "Process", "u32"},
	{"chkfail", "Metric", "Counter", "Process", "u64"},
	{"chkdown", "Metric", "Counter", "Process", "u64"},
	{"lastchg", "Metric", "Age", "Process", "u32"},
	{"downtime", "Metric", "Counter", "Process", "u32"},
	{"qlimit", "Config", "Gauge", "Service", "u32"},
	{"pid", "Key", "Gauge", "Process", "u32"},
	{"iid", "Key", "Gauge", "Service", "u32"},
	{"sid", "Key", "Gauge", "Service", "u32"},
	{"throttle", "Metric", "Avg", "Process", "u32"},
	{"lbtot", "Metric", "Counter", "Process", "u64"},
	{"tracked", "Config", "Name", "Service", "str"},
	{"type", "Config", "Gauge", "Service", "u32"},
	{"rate", "Metric", "Rate", "Process", "u32"},
	{"rate_lim", "Config", "Limit", "Process", "u32"},
	{"rate_max", "Metric", "Max", "Process", "u32"},
	{"check_status", "Metric", "Output", "Process", "str"},
	{"check_code", "Metric", "Output", "Process", "u32"},
	{"check_duration", "Metric", "Duration", "Process", "u64"},
	{"hrsp_1xx", "Metric", "Counter", "Process", "u64"},
	{"hrsp_2xx", "Metric", "Counter", "Process", "u64"},
	{"hrsp_3xx", "Metric", "Counter", "Process", "u64"},
	{"hrsp_4xx", "Metric", "Counter", "Process", "u64"},
	{"hrsp_5xx", "Metric", "Counter", "Process", "u64"},
	{"hrsp_other", "Metric", "Counter", "Process", "u64"},
	{"hanafail", "Metric", "Counter", "Process", "u64"},
	{"req_rate", "Metric", "Rate", "Process", "u32"},
	{"req_rate_max", "Metric", "Max", "Process", "u32"},
	{"req_tot", "Metric", "Counter", "Process", "u64"},
	{"cli_abrt", "Metric", "Counter", "Process", "u64"},
	{"srv_abrt", "Metric", "Counter", "Process", "u64"},
	{"comp_in", "Metric", "Counter", "Process", "u64"},
	{"comp_out", "Metric", "Counter", "Process", "u64"},
	{"comp_byp", "Metric", "Counter", "Process", "u64"},
	{"comp_rsp", "Metric", "Counter", "Process", "u64"},
	{"lastsess", "Metric", "Age", "Process", "s32"},
	{"last_chk", "Metric", "Output", "Process", "str"},
	{"last_agt", "Metric", "Output", "Process", "str"},
	{"qtime", "Metric", "Avg", "Process", "u32"},
	{"ctime", "Metric", "Avg", "Process", "u32"},
	{"rtime", "Metric", "Avg", "Process", "u32"},
	{"ttime", "Metric", "Avg", "Process", "u32"},
	{"agent_status", "Metric", "Output", "Process", "str"},
	{"agent_code", "Metric", "Output", "Process", "u32"},
	{"agent_duration", "Metric", "Duration", "Process", "u64"},
	{"check_desc", "Metric", "Output", "Process", "str"},
	{"agent_desc", "Metric", "Output", "Process", "str"},
	{"check_rise", "Config", "Gauge", "Service", "u32"},
	{"check_fall", "Config", "Gauge", "Service", "u32"},
	{"check_health", "Config", "Gauge", "Service", "u32"},
	{"agent_rise", "Config", "Gauge", "Service", "u32"},
	{"agent_fall", "Config", "Gauge", "Service", "u32"},
	{"agent_health", "Config", "Gauge", "Service", "u32"},
	{"addr", "Config", "Gauge", "Service", "str"},
	{"cookie", "Config", "Name", "Service", "str"},
	{"mode", "Config", "Gauge", "Service", "str"},
	{"algo", "Config", "Gauge", "Service", "str"},
	{"conn_rate", "Metric", "Rate", "Process", "u32"},
	{"conn_rate_max", "Metric", "Max", "Process", "u32"},
	{"conn_tot", "Metric", "Counter", "Process", "u64"},
	{"intercepted", "Metric", "Counter", "Process", "u64"},
	{"dcon", "Metric", "Counter", "Process", "u64"},
	{"dses", "Metric", "Counter", "Process", "u64"},
	{"wrew", "Metric", "Counter", "Process", "u64"},
	{"connect", "Metric", "Counter", "Process", "u64"},
	{"reuse", "Metric", "Counter", "Process", "u64"},
	{"cache_lookups", "Metric", "Counter", "Process", "u64"},
	{"cache_hits", "Metric", "Counter", "Process", "u64"},
	{"srv_icur", "Metric", "Gauge", "Process", "u32"},
	{"src_ilim", "Config", "Limit", "Process", "u32"},
	{"qtime_max", "Metric", "Max", "Process", "u32"},
	{"ctime_max", "Metric", "Max", "Process", "u32"},
	{"rtime_max", "Metric", "Max", "Process", "u32"},
	{"ttime_max", "Metric", "Max", "Process", "u32"},
	{"eint", "Metric", "Counter", "Process", "u64"},
	{"idle_conn_cur", "Metric", "Gauge", "Process", "u32"},
	{"safe_conn_cur", "Metric", "Gauge", "Process", "u32"},
	{"used_conn_cur", "Metric", "Gauge", "Process", "u32"},
	{"need_conn_est", "Metric", "Gauge", "Process", "u32"},
	{"uweight", "Metric", "Avg", "Process", "u32"},
	{"agg_server_status", "Metric", "Gauge", "Process", "u32"},
	{"agg_server_check_status", "Metric", "Gauge", "Process", "u32"},
	{"agg_check_status", "Metric", "Gauge", "Process", "u32"}}

// ModuleFields are the columns HAProxy 2.6 (Debian build) appends after a
// column named "-": its SSL, HTTP/2 and HTTP/1 modules. They are part of
// the header so that the CSV matches HAProxy's byte for byte; this
// implementation tracks none of them and leaves them empty.
var ModuleFields = []FieldInfo{
	{"ssl_sess", "Metric", "Counter", "Process", "u64"},
	{"ssl_reused_sess", "Metric", "Counter", "Process", "u64"},
	{"ssl_failed_handshake", "Metric", "Counter", "Process", "u64"},
	{"h2_headers_rcvd", "Metric", "Counter", "Process", "u64"},
	{"h2_data_rcvd", "Metric", "Counter", "Process", "u64"},
	{"h2_settings_rcvd", "Metric", "Counter", "Process", "u64"},
	{"h2_rst_stream_rcvd", "Metric", "Counter", "Process", "u64"},
	{"h2_goaway_rcvd", "Metric", "Counter", "Process", "u64"},
	{"h2_detected_conn_protocol_errors", "Metric", "Counter", "Process", "u64"},
	{"h2_detected_strm_protocol_errors", "Metric", "Counter", "Process", "u64"},
	{"h2_rst_stream_resp", "Metric", "Counter", "Process", "u64"},
	{"h2_goaway_resp", "Metric", "Counter", "Process", "u64"},
	{"h2_open_connections", "Metric", "Gauge", "Process", "u64"},
	{"h2_backend_open_streams", "Metric", "Gauge", "Process", "u64"},
	{"h2_total_connections", "Metric", "Counter", "Process", "u64"},
	{"h2_backend_total_streams", "Metric", "Counter", "Process", "u64"},
	{"h1_open_connections", "Metric", "Gauge", "Process", "u64"},
	{"h1_open_streams", "Metric", "Gauge", "Process", "u64"},
	{"h1_total_connections", "Metric", "Counter", "Process", "u64"},
	{"h1_total_streams", "Metric", "Counter", "Process", "u64"},
	{"h1_bytes_in", "Metric", "Counter", "Process", "u64"},
	{"h1_bytes_out", "Metric", "Counter", "Process", "u64"},
	{"h1_spliced_bytes_in", "Metric", "Counter", "Process", "u64"},
	{"h1_spliced_bytes_out", "Metric", "Counter", "Process", "u64"}}

// serverModuleFields is how many leading module columns HAProxy 2.6 fills
// on server rows (its SSL counters); it fills them all on frontends and
// backends.
const serverModuleFields = 3

// ModuleValue is the value of module column i on a row of type t: zero
// where HAProxy writes a number, empty elsewhere. This implementation
// counts none of them.
func ModuleValue(t ObjType, i int) Value {
	if t == Server && i >= serverModuleFields {
		return Value{}
	}
	return Int(0)
}

// backendTags are the fields whose tags HAProxy 2.6 writes differently
// on BACKEND rows.
var backendTags = map[Field]FieldInfo{
	FieldAct:     {"act", "Metric", "Gauge", "Process", "u32"},
	FieldBck:     {"bck", "Metric", "Gauge", "Process", "u32"},
	FieldRate:    {"rate", "Metric", "Gauge", "Process", "u32"},
	FieldRateMax: {"rate_max", "Metric", "Gauge", "Process", "u32"},
}

// Info describes field f as written on a row of type t.
func Info(t ObjType, f Field) FieldInfo {
	if t == Backend {
		if info, ok := backendTags[f]; ok {
			return info
		}
	}
	return Fields[f]
}

// String returns the field name.
func (f Field) String() string { return Fields[f].Name }
