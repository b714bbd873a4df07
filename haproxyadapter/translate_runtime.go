package haproxyadapter

import (
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/runtimeapi"
)

// runtimeApp translates the "stats socket" lines of the global section
// into the haproxy_runtime app, HAProxy's runtime API; nil when there are
// none.
func (t *translator) runtimeApp() *runtimeapi.App {
	g := t.cfg.Global
	if len(g.StatsSockets) == 0 {
		return nil
	}
	app := &runtimeapi.App{MaxConn: g.MaxConn, Timeout: caddy.Duration(g.StatsTimeout)}
	for _, ss := range g.StatsSockets {
		if l, ok := t.statsSocket(ss); ok {
			app.Listeners = append(app.Listeners, l)
		}
	}
	return app
}

// statsSocket translates one "stats socket <address> [params]" line.
func (t *translator) statsSocket(ss config.StatsSocket) (runtimeapi.Listener, bool) {
	const kw = "stats socket"
	var l runtimeapi.Listener
	addr, ok := t.socketAddress(ss)
	if !ok {
		return l, false
	}
	l.Address = addr
	for i := 0; i < len(ss.Params); i++ {
		p := ss.Params[i]
		value := func() (string, bool) {
			if i+1 >= len(ss.Params) {
				t.errorf(ss.Pos, kw, "'%s' expects an argument", p)
				return "", false
			}
			i++
			return ss.Params[i], true
		}
		switch p {
		case "level":
			v, ok := value()
			if !ok {
				return l, false
			}
			if _, err := runtimeapi.ParseLevel(v); err != nil {
				t.errorf(ss.Pos, kw, "'level' only supports 'user', 'operator', and 'admin' (got '%s')", v)
				return l, false
			}
			l.Level = v
		case "mode":
			v, ok := value()
			if !ok {
				return l, false
			}
			if _, err := strconv.ParseUint(v, 8, 32); err != nil {
				t.errorf(ss.Pos, kw, "'mode' expects an octal permission, got '%s'", v)
				return l, false
			}
			if !strings.HasPrefix(addr, "unix/") {
				t.warnf(ss.Pos, kw, "'mode %s' applies to UNIX sockets only: ignored", v)
				continue
			}
			l.Mode = strings.TrimLeft(v, "0")
			if l.Mode == "" {
				l.Mode = "0"
			}
		case "user", "group", "uid", "gid", "expose-fd", "process", "name", "severity-output", "maxconn", "backlog":
			v, ok := value()
			if !ok {
				return l, false
			}
			t.warnf(ss.Pos, kw, "'%s %s' is ignored: %s", p, v, ignoredSocketOption[p])
		default:
			// Other bind options (ssl, accept-proxy, verify …) change who
			// may connect or how: refuse rather than guess.
			t.errorf(ss.Pos, kw, "bind option '%s' is not supported on the runtime API socket", p)
			return l, false
		}
	}
	return l, true
}

// ignoredSocketOption says why each stats socket option that changes
// neither who may connect nor what they may do is ignored.
var ignoredSocketOption = map[string]string{
	"user":            "the socket file belongs to the user Caddy runs as",
	"group":           "the socket file belongs to the user Caddy runs as",
	"uid":             "the socket file belongs to the user Caddy runs as",
	"gid":             "the socket file belongs to the user Caddy runs as",
	"expose-fd":       "Caddy keeps its listeners across reloads itself",
	"process":         "Caddy runs one process",
	"name":            "listeners are not named in Caddy",
	"severity-output": "answers carry no severity",
	"maxconn":         "the runtime API does not limit its sessions",
	"backlog":         "the system's default backlog applies",
}

// socketAddress reads a stats socket address: a path, unix@<path>,
// abns@<name>, or [ipv4@|ipv6@]<host>:<port>, as a Caddy network address.
func (t *translator) socketAddress(ss config.StatsSocket) (string, bool) {
	a := ss.Address
	switch {
	case strings.HasPrefix(a, "/") || strings.HasPrefix(a, "./"):
		return "unix/" + a, true
	case strings.HasPrefix(a, "unix@"):
		return "unix/" + strings.TrimPrefix(a, "unix@"), true
	case strings.HasPrefix(a, "abns@"):
		return "unix/@" + strings.TrimPrefix(a, "abns@"), true
	}
	network := "tcp"
	if rest, ok := strings.CutPrefix(a, "ipv4@"); ok {
		network, a = "tcp4", rest
	} else if rest, ok := strings.CutPrefix(a, "ipv6@"); ok {
		network, a = "tcp6", rest
	} else if strings.Contains(a, "@") {
		t.errorf(ss.Pos, "stats socket", "address '%s': only UNIX paths, unix@, abns@, ipv4@ and ipv6@ addresses are supported", ss.Address)
		return "", false
	}
	i := strings.LastIndexByte(a, ':')
	if i < 0 {
		t.errorf(ss.Pos, "stats socket", "address '%s': missing port", ss.Address)
		return "", false
	}
	host, port := a[:i], a[i+1:]
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		t.errorf(ss.Pos, "stats socket", "address '%s': invalid port '%s'", ss.Address, port)
		return "", false
	}
	if host == "*" {
		host = ""
	}
	return network + "/" + joinHostPort(host, port), true
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// addRuntimeApp adds the runtime API app to apps when configured.
func (t *translator) addRuntimeApp(apps caddy.ModuleMap) {
	if app := t.runtimeApp(); app != nil && len(app.Listeners) > 0 {
		apps["haproxy_runtime"] = caddyconfig.JSON(app, nil)
	}
}
