package matchers

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// Sample is one typed value of an HAProxy sample expression, as HAProxy's
// fetches and converters produce it and its variables hold it. Booleans
// are integers 0 and 1 of kind bool.
type Sample struct {
	kind sampleKind
	str  string
	num  int64
	ip   netip.Addr
}

// String formats the sample as HAProxy casts it to a string: booleans and
// integers in decimal, addresses in their usual form.
func (s Sample) String() string {
	switch s.kind {
	case kindInt, kindBool:
		return strconv.FormatInt(s.num, 10)
	case kindIP:
		return s.ip.String()
	}
	return s.str
}

func stringSample(s string) Sample { return Sample{kind: kindString, str: s} }
func intSample(n int64) Sample     { return Sample{kind: kindInt, num: n} }

// varKey is the name of the Caddy request variable that holds the HAProxy
// variable "<scope>.<name>"; {http.vars.haproxy.txn.x} reads txn.x.
func varKey(name string) string { return "haproxy." + name }

// VarPlaceholder is the Caddy placeholder of an HAProxy variable
// ("txn.x"): the variable as a string, empty when it is not set.
func VarPlaceholder(name string) string { return "{http.vars." + varKey(name) + "}" }

// lookupVar returns the sample an HAProxy variable holds.
func lookupVar(r *http.Request, name string) (Sample, bool) {
	s, ok := caddyhttp.GetVar(r.Context(), varKey(name)).(Sample)
	return s, ok
}

// sampleFetches are the fetches an expression with converters, or a
// set-var rule, evaluates, with the kind of sample each returns.
var sampleFetches = map[string]sampleKind{
	"path": kindString, "url": kindString, "base": kindString, "query": kindString,
	"url_param": kindString, "hdr": kindString, "fhdr": kindString, "cook": kindString,
	"hdr_cnt": kindInt, "cook_cnt": kindInt, "method": kindString, "req_ver": kindString,
	"src": kindIP, "dst": kindIP, "src_port": kindInt, "dst_port": kindInt,
	"ssl_fc_sni": kindString, "var": kindString, "str": kindString, "int": kindInt, "bool": kindBool,
}

// checkSampleFetch refuses a fetch or arguments the sample evaluator does
// not know.
func checkSampleFetch(fetch string, args []string) error {
	if _, ok := sampleFetches[fetch]; !ok {
		return fmt.Errorf("fetch %s cannot be followed by converters or stored in a variable", fetch)
	}
	switch fetch {
	case "var":
		return checkVarName(args)
	case "int":
		if len(args) != 1 {
			return fmt.Errorf("int needs one argument")
		}
		if _, err := strconv.ParseInt(args[0], 10, 64); err != nil {
			return fmt.Errorf("int(%s): not an integer", args[0])
		}
	case "bool":
		if len(args) != 1 || args[0] != "true" && args[0] != "false" && args[0] != "1" && args[0] != "0" {
			return fmt.Errorf("bool needs true, false, 1 or 0")
		}
	case "str":
		if len(args) > 1 {
			return fmt.Errorf("str takes one argument")
		}
	default:
		if info, ok := fetches[fetch]; ok && (len(args) < info.minArgs || len(args) > info.maxArgs) {
			return fmt.Errorf("fetch %s takes %d to %d arguments, got %d", fetch, info.minArgs, info.maxArgs, len(args))
		}
	}
	return nil
}

// checkVarName accepts "<scope>.<name>" for the scopes whose life is one
// request: txn (request and response) and req (request only).
func checkVarName(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("var needs one argument, the variable's name")
	}
	scope, name, ok := cutScope(args[0])
	if !ok || name == "" {
		return fmt.Errorf("variable %q: expects <scope>.<name>", args[0])
	}
	if scope != "txn" && scope != "req" {
		return fmt.Errorf("variable %q: only the txn and req scopes are supported (sess and proc outlive a request)", args[0])
	}
	return nil
}

func cutScope(v string) (scope, name string, ok bool) {
	for i := 0; i < len(v); i++ {
		if v[i] == '.' {
			return v[:i], v[i+1:], true
		}
	}
	return "", "", false
}

// fetchSamples returns the samples a fetch yields for a request. all asks
// for every occurrence of a header or cookie (as an ACL sees them);
// otherwise the last one is returned, as HAProxy's fetches do in a sample
// expression, unless an occurrence is given.
func fetchSamples(r *http.Request, fetch string, args []string, all bool) []Sample {
	str := func(s string, ok bool) []Sample {
		if !ok {
			return nil
		}
		return []Sample{stringSample(s)}
	}
	pick := func(values []string, occArg int) []Sample {
		occ := 0
		if len(args) > occArg {
			occ, _ = strconv.Atoi(args[occArg])
		}
		if occ == 0 && !all {
			occ = -1
		}
		if occ != 0 {
			v, ok := occurrence(values, occ)
			return str(v, ok)
		}
		out := make([]Sample, len(values))
		for i, v := range values {
			out[i] = stringSample(v)
		}
		return out
	}
	switch fetch {
	case "path":
		return str(requestPath(r.RequestURI))
	case "url":
		return str(r.RequestURI, true)
	case "base":
		p, ok := requestPath(r.RequestURI)
		return str(hostHeader(r)+p, ok)
	case "query":
		for i := 0; i < len(r.RequestURI); i++ {
			if r.RequestURI[i] == '?' {
				return str(r.RequestURI[i+1:], true)
			}
		}
		return nil
	case "url_param":
		values := urlParamValues(r.RequestURI, args)
		if !all && len(values) > 1 {
			values = values[:1]
		}
		out := make([]Sample, len(values))
		for i, v := range values {
			out[i] = stringSample(v)
		}
		return out
	case "hdr", "fhdr":
		return pick(headerValues(r, args[0], fetch == "hdr"), 1)
	case "cook":
		return pick(cookieValues(r, args[0]), 1)
	case "hdr_cnt":
		return []Sample{intSample(int64(len(headerValues(r, args[0], true))))}
	case "cook_cnt":
		return []Sample{intSample(int64(len(cookieValues(r, args[0]))))}
	case "method":
		return str(originalMethod(r), true)
	case "req_ver":
		return str(strconv.Itoa(r.ProtoMajor)+"."+strconv.Itoa(r.ProtoMinor), true)
	case "src", "src_port", "dst", "dst_port":
		ap, ok := connAddr(r, fetch == "src" || fetch == "src_port")
		if !ok {
			return nil
		}
		if fetch == "src" || fetch == "dst" {
			return []Sample{{kind: kindIP, ip: ap.Addr().Unmap()}}
		}
		return []Sample{intSample(int64(ap.Port()))}
	case "ssl_fc_sni":
		if r.TLS == nil || r.TLS.ServerName == "" {
			return nil
		}
		return str(r.TLS.ServerName, true)
	case "var":
		s, ok := lookupVar(r, args[0])
		if !ok {
			return nil
		}
		return []Sample{s}
	case "str":
		if len(args) == 0 {
			return str("", true)
		}
		return str(args[0], true)
	case "int":
		n, _ := strconv.ParseInt(args[0], 10, 64)
		return []Sample{intSample(n)}
	case "bool":
		return []Sample{{kind: kindBool, num: boolInt(args[0] == "true" || args[0] == "1")}}
	}
	return nil
}

// connAddr returns the client's (remote) or the listener's (local) address
// of the request's connection.
func connAddr(r *http.Request, remote bool) (netip.AddrPort, bool) {
	s := r.RemoteAddr
	if !remote {
		addr, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if addr == nil {
			return netip.AddrPort{}, false
		}
		s = addr.String()
	}
	ap, err := netip.ParseAddrPort(s)
	return ap, err == nil
}

// matchSample matches a sample of any kind, casting it as HAProxy does for
// the match method: an integer is compared as its decimal string by the
// string methods, a string as an integer by int and bool only when it is
// one.
func (p *patterns) matchSample(s Sample) bool {
	switch p.method {
	case MatchFound:
		return true
	case MatchInt, MatchBool:
		switch s.kind {
		case kindInt, kindBool:
			return p.matchInt(s.num)
		case kindString:
			n, err := strconv.ParseInt(s.str, 10, 64)
			return err == nil && p.method == MatchInt && p.matchInt(n)
		}
		return false
	case MatchIP:
		switch s.kind {
		case kindIP:
			return p.matchIP(s.ip)
		case kindString:
			a, ok := headerIP(s.str)
			return ok && p.matchIP(a)
		}
		return false
	}
	return p.matchString(s.String())
}

// isExpression reports whether the test evaluates a sample expression
// (converters, or a fetch that only exists as one) rather than one of the
// matcher's fetches directly.
func (t *Test) isExpression() bool {
	switch t.Fetch {
	case "var", "str", "int", "bool":
		return true
	}
	return len(t.Converters) > 0 || t.Single
}

// provisionExpression prepares a test of a sample expression. The match
// method defaults to the one of the expression's output kind; a bare
// variable, whose kind is known only when a rule sets it, needs one.
func (t *Test) provisionExpression() error {
	kind, err := provisionExpression(t.Fetch, t.Args, t.Converters)
	if err != nil {
		return err
	}
	method := t.Match
	if method == "" {
		if t.Fetch == "var" && len(t.Converters) == 0 {
			return fmt.Errorf("var(%s) needs a match method (-m str, -m int, -m bool, -m found …)", t.Args[0])
		}
		method = defaultMethod(kind)
	}
	if t.Fetch != "var" || len(t.Converters) > 0 {
		if err := checkMethod(kind, method); err != nil {
			return err
		}
	}
	t.compiled, err = compilePatterns(method, t.IgnoreCase, t.Values)
	return err
}

// provisionExpression checks a fetch and prepares its converters; it
// returns the kind of sample the expression yields.
func provisionExpression(fetch string, args []string, convs []Converter) (sampleKind, error) {
	if err := checkSampleFetch(fetch, args); err != nil {
		return 0, err
	}
	kind := sampleFetches[fetch]
	for i := range convs {
		if err := convs[i].provision(); err != nil {
			return 0, err
		}
		if convs[i].Name == "bool" && kind == kindString && fetch != "var" {
			return 0, fmt.Errorf("converter bool needs an integer sample")
		}
		kind = convs[i].outputKind()
	}
	return kind, nil
}

// evalExpression returns the samples of a fetch after its converters; a
// sample a converter drops is left out.
func evalExpression(r *http.Request, fetch string, args []string, convs []Converter, all bool) []Sample {
	in := fetchSamples(r, fetch, args, all)
	out := in[:0]
next:
	for _, smp := range in {
		for i := range convs {
			var ok bool
			if smp, ok = convs[i].apply(smp); !ok {
				continue next
			}
		}
		out = append(out, smp)
	}
	return out
}
