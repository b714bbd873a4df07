package matchers

import "strings"

// derivedSuffixes are the match methods a fetch name may carry as a suffix
// (path_beg is path -m beg).
var derivedSuffixes = []string{"beg", "end", "sub", "reg", "dir", "dom", "len"}

// fetchNames maps HAProxy's fetch names to the matcher's fetches.
var fetchNames = map[string]string{
	"path": "path", "url": "url", "base": "base", "query": "query",
	"url_param": "url_param", "urlp": "url_param",
	"hdr": "hdr", "req.hdr": "hdr", "req.fhdr": "fhdr",
	"hdr_cnt": "hdr_cnt", "req.hdr_cnt": "hdr_cnt",
	"hdr_val": "hdr_val", "req.hdr_val": "hdr_val",
	"hdr_ip": "hdr_ip", "req.hdr_ip": "hdr_ip",
	"cook": "cook", "req.cook": "cook",
	"cook_cnt": "cook_cnt", "req.cook_cnt": "cook_cnt",
	"cook_val": "cook_val", "req.cook_val": "cook_val",
	"method": "method", "req.ver": "req_ver", "req_ver": "req_ver",
	"src": "src", "src_port": "src_port", "dst": "dst", "dst_port": "dst_port",
	"ssl_fc": "ssl_fc", "ssl_fc_sni": "ssl_fc_sni", "ssl_c_used": "ssl_c_used", "ssl_c_verify": "ssl_c_verify",
	"nbsrv": "nbsrv", "srv_is_up": "srv_is_up",
	"http_auth": "http_auth", "http_auth_group": "http_auth_group",
	"always_true": "always_true", "always_false": "always_false",
}

// derivable are the fetches that take a match-method suffix.
var derivable = map[string]bool{"path": true, "url": true, "base": true, "hdr": true, "urlp": true, "cook": true, "ssl_fc_sni": true}

// LookupFetch maps an HAProxy fetch name, possibly with a match-method
// suffix ("path_beg", "req.hdr", "urlp_reg"), to the matcher's fetch and
// the match method the suffix fixes ("" when none). ok is false for a
// fetch the matcher does not evaluate.
func LookupFetch(name string) (fetch, match string, ok bool) {
	if f, ok := fetchNames[name]; ok {
		return f, "", true
	}
	for _, suf := range derivedSuffixes {
		if base, found := strings.CutSuffix(name, "_"+suf); found && derivable[base] {
			return fetchNames[base], suf, true
		}
	}
	return "", "", false
}

// SplitFetch cuts an HAProxy sample expression "name(args),conv(x),…" into
// the fetch name, its arguments and the converters.
func SplitFetch(expr string) (name string, args []string, convs []string) {
	depth, start := 0, 0
	var parts []string
	for i := 0; i < len(expr); i++ {
		switch expr[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, expr[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, expr[start:])
	name = parts[0]
	if i := strings.IndexByte(name, '('); i >= 0 && strings.HasSuffix(name, ")") {
		inner := name[i+1 : len(name)-1]
		name = name[:i]
		if inner != "" {
			args = strings.Split(inner, ",")
		}
	}
	return name, args, parts[1:]
}
