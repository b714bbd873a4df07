package haproxyadapter

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddytls"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
)

// listenGroup is the binds of a proxy that one Caddy server can serve:
// they agree on TLS, on the PROXY protocol and on the HTTP versions.
type listenGroup struct {
	tls         bool
	acceptProxy bool
	protocols   []string
	listen      []string
	policy      *caddytls.ConnectionPolicy
}

func (g *listenGroup) key() string {
	return fmt.Sprint(g.tls, g.acceptProxy, g.protocols)
}

// suffix names the Caddy server of a group other than the first.
func (g *listenGroup) suffix() string {
	var parts []string
	if g.tls {
		parts = append(parts, "tls")
	}
	if g.acceptProxy {
		parts = append(parts, "proxy")
	}
	parts = append(parts, strings.Join(g.protocols, "-"))
	return strings.Join(parts, "-")
}

// listenGroups sorts the proxy's binds into groups, in bind order.
func (t *translator) listenGroups(p *config.Proxy) []*listenGroup {
	var groups []*listenGroup
	byKey := map[string]*listenGroup{}
	for _, b := range p.Binds {
		addr, ok := t.listenAddress(p, b)
		if !ok {
			continue
		}
		g := &listenGroup{tls: b.SSL, acceptProxy: b.AcceptProxy, protocols: bindProtocols(b)}
		if existing := byKey[g.key()]; existing != nil {
			g = existing
		} else {
			byKey[g.key()] = g
			groups = append(groups, g)
		}
		g.listen = append(g.listen, addr)
		if b.SSL {
			if bp := t.bindTLS(p, b); g.policy == nil {
				g.policy = bp
			}
		}
	}
	return groups
}

// bindProtocols returns the HTTP versions a bind speaks, as HAProxy 2.6
// does: HTTP/1.1 on a plain bind (cleartext HTTP/2 with "proto h2"), and
// over TLS what "alpn" offers, HTTP/1.1 when it offers nothing. HTTP/3
// needs a QUIC bind, which is not translated.
func bindProtocols(b *config.Bind) []string {
	if !b.SSL {
		if b.Proto == "h2" {
			return []string{"h2c"}
		}
		return []string{"h1"}
	}
	var out []string
	for _, a := range b.ALPN {
		switch a {
		case "h2":
			out = append(out, "h2")
		case "http/1.1", "http/1.0":
			if !slices.Contains(out, "h1") {
				out = append(out, "h1")
			}
		}
	}
	if len(out) == 0 {
		out = []string{"h1"}
	}
	slices.Sort(out)
	return out
}

// applyListenGroup sets the server's addresses, HTTP versions, TLS policy
// and listener wrappers for a group of binds.
func (t *translator) applyListenGroup(g *listenGroup, srv *caddyhttp.Server) {
	srv.Listen = g.listen
	srv.Protocols = g.protocols
	if g.policy != nil {
		srv.TLSConnPolicies = caddytls.ConnectionPolicies{g.policy}
	}
	if g.acceptProxy {
		wrappers := []json.RawMessage{caddyconfig.JSONModuleObject(map[string]any{
			// accept-proxy requires the PROXY header from every client.
			"fallback_policy": "REQUIRE",
		}, "wrapper", "proxy_protocol", nil)}
		if g.tls {
			wrappers = append(wrappers, caddyconfig.JSONModuleObject(struct{}{}, "wrapper", "tls", nil))
		}
		srv.ListenerWrappersRaw = wrappers
	}
}

// listenAddress converts a bind address to a Caddy network address of the
// handover package's networks.
// HAProxy's "*", "0.0.0.0" and an empty host listen on IPv4 only; "::"
// listens on IPv6 and, as on Linux by default, IPv4-mapped addresses.
func (t *translator) listenAddress(p *config.Proxy, b *config.Bind) (string, bool) {
	if b.Network == "unix" {
		return "unix/" + b.Host, true
	}
	if b.PortLow <= 0 || b.PortLow > 65535 || b.PortHigh < b.PortLow || b.PortHigh > 65535 {
		t.errorf(b.Pos, "bind", "%s %q: invalid port in %q", p.Kind, p.Name, b.Address)
		return "", false
	}
	ports := strconv.Itoa(b.PortLow)
	if b.PortHigh != b.PortLow {
		ports += "-" + strconv.Itoa(b.PortHigh)
	}
	host := b.Host
	network := b.Network
	switch {
	case host == "" || host == "*" || host == "0.0.0.0":
		if network == "tcp6" {
			host = "::"
		} else {
			host, network = "0.0.0.0", "tcp4"
		}
	case host == "::":
		// Linux lets "::" take IPv4 too unless v6only is set, and so
		// does Go's "tcp" network; "tcp6" would make it IPv6 only.
		network = "tcp"
		if hasParam(b.Params, "v6only") {
			network = "tcp6"
		}
	}
	if network == "" {
		network = "tcp"
	}
	// The plugin's shared-socket networks keep one listening socket across
	// reloads, so a reload resets no connection (see package handover).
	return "haproxy-" + network + "/" + net.JoinHostPort(host, ports), true
}

// bindTLS loads the certificates of an ssl bind into the tls app and returns
// the connection policy that serves them. Client certificate verification
// decides who gets in, so it is refused until it can be translated exactly.
func (t *translator) bindTLS(p *config.Proxy, b *config.Bind) *caddytls.ConnectionPolicy {
	if len(b.Certs) == 0 && len(b.CrtLists) == 0 {
		t.errorf(b.Pos, "bind", "%s %q: ssl without crt: no certificate to serve", p.Kind, p.Name)
		return nil
	}
	if len(b.CrtLists) > 0 {
		t.errorf(b.Pos, "bind", "crt-list is not supported yet; list the certificates with crt")
	}
	policy := &caddytls.ConnectionPolicy{ALPN: b.ALPN}
	tag := "haproxy:" + p.Name
	var files []caddytls.CertKeyFilePair
	var folders caddytls.FolderLoader
	for _, crt := range b.Certs {
		path := crt
		if !filepath.IsAbs(path) && t.cfg.Global.CRTBase != "" {
			path = filepath.Join(t.cfg.Global.CRTBase, path)
		}
		if isDir(path) {
			folders = append(folders, path)
			continue
		}
		// HAProxy's PEM holds the certificate chain and the key; a ".key"
		// file beside it is used when the PEM has no key.
		key := path
		if k := strings.TrimSuffix(path, filepath.Ext(path)) + ".key"; fileExists(k) && !pemHasKey(path) {
			key = k
		}
		files = append(files, caddytls.CertKeyFilePair{Certificate: path, Key: key, Format: "pem", Tags: []string{tag}})
	}
	for i := 0; i < len(b.Params); i++ {
		switch b.Params[i] {
		case "verify":
			if i+1 < len(b.Params) && b.Params[i+1] != "none" {
				t.errorf(b.Pos, "bind", "client certificate verification (verify %s) is not supported yet; it decides who may connect, so it cannot be dropped", b.Params[i+1])
			}
		case "ca-file", "crl-file", "ca-verify-file":
			if !hasParamValue(b.Params, "verify", "none") {
				t.errorf(b.Pos, "bind", "%s (client certificate verification) is not supported yet; it decides who may connect, so it cannot be dropped", b.Params[i])
			}
		case "ssl-min-ver":
			if i+1 < len(b.Params) {
				if v, ok := tlsVersion(b.Params[i+1]); ok {
					policy.ProtocolMin = v
				} else {
					t.warnf(b.Pos, "bind", "ssl-min-ver %s: Caddy supports TLS 1.2 and 1.3 only; using its default", b.Params[i+1])
				}
			}
		case "ssl-max-ver":
			if i+1 < len(b.Params) {
				if v, ok := tlsVersion(b.Params[i+1]); ok {
					policy.ProtocolMax = v
				}
			}
		case "ciphers", "ciphersuites", "curves", "ecdhe", "no-tls-tickets", "strict-sni", "no-sslv3", "no-tlsv10", "no-tlsv11", "force-tlsv12", "force-tlsv13", "prefer-client-ciphers", "npn":
			t.warnf(b.Pos, "bind", "%s is ignored: Caddy's TLS defaults apply (TLS 1.2+, modern ciphers)", b.Params[i])
		}
	}
	if len(files) > 0 {
		if t.tls == nil {
			t.tls = &caddytls.TLS{CertificatesRaw: caddy.ModuleMap{}}
		}
		var existing []caddytls.CertKeyFilePair
		if raw := t.tls.CertificatesRaw["load_files"]; raw != nil {
			_ = json.Unmarshal(raw, &existing)
		}
		t.tls.CertificatesRaw["load_files"] = caddyconfig.JSON(append(existing, files...), nil)
		if len(folders) == 0 {
			policy.CertSelection = &caddytls.CustomCertSelectionPolicy{AnyTag: []string{tag}}
		}
	}
	if len(folders) > 0 {
		if t.tls == nil {
			t.tls = &caddytls.TLS{CertificatesRaw: caddy.ModuleMap{}}
		}
		var existing caddytls.FolderLoader
		if raw := t.tls.CertificatesRaw["load_folders"]; raw != nil {
			_ = json.Unmarshal(raw, &existing)
		}
		t.tls.CertificatesRaw["load_folders"] = caddyconfig.JSON(append(existing, folders...), nil)
	}
	return policy
}

func tlsVersion(v string) (string, bool) {
	switch strings.ToUpper(v) {
	case "TLSV1.2":
		return "tls1.2", true
	case "TLSV1.3":
		return "tls1.3", true
	}
	return "", false
}

func hasParamValue(params []string, name, value string) bool {
	for i := 0; i+1 < len(params); i++ {
		if params[i] == name && params[i+1] == value {
			return true
		}
	}
	return false
}

func hasParam(params []string, name string) bool {
	for _, p := range params {
		if p == name {
			return true
		}
	}
	return false
}
