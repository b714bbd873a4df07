package haproxyadapter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
)

// Sample expressions ("hdr(host),lower,map(hosts.map)") appear in ACLs and
// in set-var rules. The plugin evaluates them: the haproxy_acl matcher for
// ACLs, the haproxy_set_var handler for variables, which live in Caddy's
// request variables.

// constantFetches are the fetches that give a constant sample.
var constantFetches = map[string]bool{"str": true, "int": true, "bool": true, "var": true}

// sampleExpression translates a fetch and its converters; derived names
// (path_beg) fix a match method, which an expression with converters
// cannot have.
func sampleExpression(cfgFile, expr string) (fetch string, args []string, match string, convs []matchers.Converter, err error) {
	name, args, words := matchers.SplitFetch(expr)
	fetch = name
	if !constantFetches[name] {
		var known bool
		fetch, match, known = matchers.LookupFetch(name)
		if !known {
			return "", nil, "", nil, fmt.Errorf("fetch %q is not translated", name)
		}
	}
	if match != "" && len(words) > 0 {
		return "", nil, "", nil, fmt.Errorf("%s cannot be followed by converters (use %s,<converters> -m %s)", name, strings.TrimSuffix(name, "_"+match), match)
	}
	for _, w := range words {
		c, err := converter(cfgFile, w)
		if err != nil {
			return "", nil, "", nil, err
		}
		convs = append(convs, c)
	}
	return fetch, args, match, convs, nil
}

// converter translates one converter, reading a map file.
func converter(cfgFile, word string) (matchers.Converter, error) {
	name, args, _ := matchers.SplitFetch(word)
	c := matchers.Converter{Name: name, Args: args}
	switch name {
	case "lower", "upper", "length", "hex", "base64", "bool", "word", "field", "regsub":
	case "map", "map_str", "map_beg":
		if len(args) == 0 {
			return c, fmt.Errorf("converter %s needs a map file", name)
		}
		data, err := readConfigFile(relativeToConfig(cfgFile, args[0]))
		if err != nil {
			return c, fmt.Errorf("converter %s: %v", name, err)
		}
		c.Entries = matchers.ReadMapFile(string(data))
	default:
		return c, fmt.Errorf("converter %q is not translated (lower, upper, length, hex, base64, bool, word, field, regsub, map, map_str and map_beg are)", name)
	}
	if strings.ContainsAny(word, `"'\`) {
		return c, fmt.Errorf("converter %s: quoted or escaped arguments are not translated", word)
	}
	return c, nil
}

// setVar translates "set-var(<scope>.<name>) <expr>", "set-var-fmt(…)
// <fmt>" and "unset-var(<scope>.<name>)" into the haproxy_set_var handler
// (after the handlers a format's expressions need).
func (t *translator) setVar(r *config.Rule) ([]json.RawMessage, error) {
	action, name, _ := strings.Cut(r.Action, "(")
	name, ok := strings.CutSuffix(name, ")")
	if !ok || strings.Contains(name, ",") {
		return nil, fmt.Errorf("expects %s(<scope>.<name>) without conditions", action)
	}
	if action == "set-var-fmt" {
		if len(r.Args) != 1 {
			return nil, fmt.Errorf("expects one log-format string")
		}
		if r.Args[0] == "" {
			return nil, fmt.Errorf("an empty format is not translated")
		}
		rf := &ruleFormat{t: t, file: r.Pos.File}
		format, err := rf.format(r.Args[0])
		if err != nil {
			return nil, err
		}
		sv := matchers.SetVar{Name: name, Format: format}
		if err := sv.Validate(); err != nil {
			return nil, err
		}
		return append(rf.pre, caddyconfig.JSONModuleObject(sv, "handler", "haproxy_set_var", nil)), nil
	}
	if action == "unset-var" {
		if len(r.Args) != 0 {
			return nil, fmt.Errorf("takes no expression")
		}
		sv := matchers.SetVar{Name: name, Unset: true}
		if err := sv.Validate(); err != nil {
			return nil, err
		}
		return []json.RawMessage{caddyconfig.JSONModuleObject(sv, "handler", "haproxy_set_var", nil)}, nil
	}
	if len(r.Args) != 1 {
		return nil, fmt.Errorf("expects one sample expression")
	}
	fetch, args, _, convs, err := sampleExpression(r.Pos.File, r.Args[0])
	if err != nil {
		return nil, err
	}
	sv := matchers.SetVar{Name: name, Fetch: fetch, Args: args, Converters: convs}
	if err := sv.Validate(); err != nil {
		return nil, err
	}
	return []json.RawMessage{caddyconfig.JSONModuleObject(sv, "handler", "haproxy_set_var", nil)}, nil
}

// headerValue translates a log-format string of a rule: a set-header or
// add-header value, a redirect's location, a reply's body or header. An %[expression] without a placeholder of its own is
// evaluated by a haproxy_set_var handler into a variable of its own, read
// by the value's placeholder; pre are those handlers, which run just before
// the rule. A response rule's handlers run before the response, so its
// expressions may read only txn variables and constants, which no later
// rule changes (HAProxy cannot read the request from a response rule).
func (t *translator) headerValue(cfgFile, raw string, response bool) (string, []json.RawMessage, error) {
	var pre []json.RawMessage
	value, err := logFormatWith(raw, func(expr string) (string, error) {
		fetch, args, match, convs, err := sampleExpression(cfgFile, expr)
		if err != nil {
			return "", err
		}
		if match != "" {
			return "", fmt.Errorf("%s is an ACL keyword, not a sample fetch", expr)
		}
		if response && !(fetch == "var" && len(args) == 1 && strings.HasPrefix(args[0], "txn.") || fetch == "str" || fetch == "int" || fetch == "bool") {
			return "", fmt.Errorf("a response rule's expression may read only txn variables and constants")
		}
		// '-' cannot occur in HAProxy's variable names, so this name is
		// the translation's own.
		t.exprVars++
		name := fmt.Sprintf("req.-expr-%d", t.exprVars)
		sv := matchers.SetVar{Name: name, Fetch: fetch, Args: args, Converters: convs}
		if err := sv.Validate(); err != nil {
			return "", err
		}
		pre = append(pre, caddyconfig.JSONModuleObject(sv, "handler", "haproxy_set_var", nil))
		return matchers.VarPlaceholder(name), nil
	})
	return value, pre, err
}

// setStatusHandler translates "set-status <code>" of a response rule into
// the haproxy_set_status handler. A reason is refused: Go's server writes
// the standard reason phrase of the code.
func setStatusHandler(args []string, require *caddyhttp.ResponseMatcher) (json.RawMessage, error) {
	if len(args) == 3 && args[1] == "reason" {
		return nil, fmt.Errorf("a reason phrase is not translated: Go's HTTP server writes the standard one for the code")
	}
	if len(args) != 1 {
		return nil, fmt.Errorf("expects a status code")
	}
	code, err := strconv.Atoi(args[0])
	ss := matchers.SetStatus{StatusCode: code, Require: require}
	if err != nil {
		return nil, fmt.Errorf("status %q is not a number", args[0])
	}
	if err := ss.Validate(); err != nil {
		return nil, err
	}
	return caddyconfig.JSONModuleObject(ss, "handler", "haproxy_set_status", nil), nil
}

// ruleFormat translates the log-format strings of one request rule (see
// headerValue), collecting in pre the handlers its expressions need. A nil
// ruleFormat translates placeholders only.
type ruleFormat struct {
	t    *translator
	file string
	pre  []json.RawMessage
}

func (rf *ruleFormat) format(s string) (string, error) {
	if rf == nil {
		return logFormat(s)
	}
	v, pre, err := rf.t.headerValue(rf.file, s, false)
	rf.pre = append(rf.pre, pre...)
	return v, err
}
