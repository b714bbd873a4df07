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
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/maxconn"
)

// listenGroup is the binds of a proxy that one Caddy server can serve:
// they agree on TLS (and its connection policy), on the PROXY protocol and
// on the HTTP versions.
type listenGroup struct {
	tls         bool
	acceptProxy bool
	protocols   []string
	listen      []string
	policies    caddytls.ConnectionPolicies
	policyKey   string
	// variant numbers the groups that differ only in their TLS policy
	// (client certificates, versions), from 0.
	variant int
}

func (g *listenGroup) key() string {
	return fmt.Sprint(g.tls, g.acceptProxy, g.protocols)
}

// suffix names the Caddy server of a group other than the first.
func (g *listenGroup) suffix() string {
	var parts []string
	if g.tls {
		parts = append(parts, "tls")
		if g.variant > 0 {
			parts[0] += strconv.Itoa(g.variant + 1)
		}
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
		if b.SSL {
			g.policies = t.bindTLS(p, b)
			g.protocols = policyProtocols(g.policies, g.protocols)
		}
		key := g.key()
		if b.SSL {
			// Binds whose TLS settings differ need servers of their own.
			g.policyKey = string(caddyconfig.JSON(g.policies, nil))
			for _, other := range groups {
				if other.key() == key {
					g.variant++
				}
			}
			key += g.policyKey
		}
		if existing := byKey[key]; existing != nil {
			g = existing
		} else {
			byKey[key] = g
			groups = append(groups, g)
		}
		g.listen = append(g.listen, addr)
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
	return alpnProtocols(b.ALPN)
}

// alpnProtocols returns the HTTP versions an ALPN list offers, HTTP/1.1
// when it offers none.
func alpnProtocols(alpnList []string) []string {
	var out []string
	for _, a := range alpnList {
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

// policyProtocols returns the HTTP versions a TLS bind speaks when its
// policies (crt-list lines) offer different ALPN lists: all of them. A
// policy that offers no list then offers the bind's versions explicitly,
// since Caddy would otherwise offer every version of the server.
func policyProtocols(policies caddytls.ConnectionPolicies, bindProtocols []string) []string {
	protocols := bindProtocols
	for _, cp := range policies {
		if cp.ALPN != nil {
			for _, proto := range alpnProtocols(cp.ALPN) {
				if !slices.Contains(protocols, proto) {
					protocols = append(slices.Clone(protocols), proto)
				}
			}
		}
	}
	slices.Sort(protocols)
	if slices.Equal(protocols, bindProtocols) {
		return bindProtocols
	}
	var alpn []string
	for _, proto := range bindProtocols {
		alpn = append(alpn, map[string]string{"h1": "http/1.1", "h2": "h2"}[proto])
	}
	for _, cp := range policies {
		if cp.ALPN == nil {
			cp.ALPN = alpn
		}
	}
	return protocols
}

// applyListenGroup sets the server's addresses, HTTP versions, TLS policy
// and listener wrappers for a group of binds of frontend p. The
// haproxy_frontend wrapper counts the frontend's connections and bytes; it
// comes before TLS, which must stay last for Caddy to see TLS connections.
func (t *translator) applyListenGroup(p *config.Proxy, g *listenGroup, srv *caddyhttp.Server) {
	srv.Listen = g.listen
	srv.Protocols = g.protocols
	if g.policies != nil {
		srv.TLSConnPolicies = g.policies
		if slices.ContainsFunc(g.policies, func(cp *caddytls.ConnectionPolicy) bool { return cp.ClientAuthentication != nil }) {
			// Caddy would answer 421 when the Host header differs from
			// the SNI (or there is no SNI) once client certificates are
			// asked for; HAProxy compares neither.
			strict := false
			srv.StrictSNIHost = &strict
		}
	}
	var wrappers []json.RawMessage
	if limits := t.connLimits(p); len(limits) > 0 {
		// First, so that connections are counted as the kernel hands
		// them over, before the PROXY header or TLS.
		wrappers = append(wrappers, caddyconfig.JSONModuleObject(maxconn.ListenerWrapper{Limits: limits}, "wrapper", "haproxy_maxconn", nil))
	}
	// tcp-request connection rules see the real peer, before the PROXY
	// header; caddy-l4's listener wrapper closes the connections they
	// reject and hands the others on.
	if routes := t.rejectRoutes(l4Context{noBuffer: true, port: singlePort(p)}, nil, p.TCPRequest, "connection"); len(routes) > 0 {
		wrappers = append(wrappers, caddyconfig.JSONModuleObject(map[string]any{"routes": routes}, "wrapper", "layer4", nil))
	}
	if g.acceptProxy {
		wrappers = append(wrappers, caddyconfig.JSONModuleObject(map[string]any{
			// accept-proxy requires the PROXY header from every client.
			"fallback_policy": "REQUIRE",
		}, "wrapper", "proxy_protocol", nil))
	}
	wrappers = append(wrappers, caddyconfig.JSONModuleObject(lbmodule.FrontendListener{Name: p.Name, ClientKeepAlive: tcpKeepAlive(p, "clitcpka")}, "wrapper", "haproxy_frontend", nil))
	if g.tls {
		wrappers = append(wrappers, caddyconfig.JSONModuleObject(struct{}{}, "wrapper", "tls", nil))
	}
	srv.ListenerWrappersRaw = wrappers
}

// connLimits returns the connection limits of a frontend's listeners:
// its own maxconn and the global one. HAProxy stops accepting while either
// is reached.
func (t *translator) connLimits(p *config.Proxy) []maxconn.Limit {
	var limits []maxconn.Limit
	if p.MaxConn > 0 {
		limits = append(limits, maxconn.Limit{Name: "frontend/" + p.Name, Max: p.MaxConn})
	}
	if g := t.cfg.Global.MaxConn; g > 0 {
		limits = append(limits, maxconn.Limit{Name: "global", Max: g})
	}
	return limits
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
// the connection policies that serve them: with crt-list, one per set of
// server names ahead of the default one.
func (t *translator) bindTLS(p *config.Proxy, b *config.Bind) caddytls.ConnectionPolicies {
	if len(b.Certs) == 0 && len(b.CrtLists) == 0 {
		t.errorf(b.Pos, "bind", "%s %q: ssl without crt: no certificate to serve", p.Kind, p.Name)
		return nil
	}
	policy := &caddytls.ConnectionPolicy{}
	var cc clientCertOptions
	for i := 0; i < len(b.Params); i++ {
		w := b.Params[i]
		k, _ := config.LookupKeyword("bind", []string{w})
		if k == nil || i+k.Args >= len(b.Params) {
			continue
		}
		t.tlsOption(b.Pos, "bind", policy, &cc, b.Params[i:i+1+k.Args])
		i += k.Args
	}
	t.applyClientAuth(b.Pos, "bind", fmt.Sprintf("%s %q: ", p.Kind, p.Name), policy, cc)
	// Each bind line serves its own certificates.
	tag := fmt.Sprintf("haproxy:%s:%s", p.Name, b.Pos)
	var files []caddytls.CertKeyFilePair
	var folders caddytls.FolderLoader
	for _, crt := range b.Certs {
		path := t.crtPath(crt)
		if isDir(path) {
			folders = append(folders, path)
			continue
		}
		files = append(files, certFilePair(path, tag))
	}
	t.loadCertFiles(files)
	if len(files) > 0 && len(folders) == 0 {
		policy.CertSelection = &caddytls.CustomCertSelectionPolicy{AnyTag: []string{tag}}
	}
	if len(folders) > 0 {
		t.ensureTLSApp()
		var existing caddytls.FolderLoader
		if raw := t.tls.CertificatesRaw["load_folders"]; raw != nil {
			_ = json.Unmarshal(raw, &existing)
		}
		for _, f := range folders {
			if !slices.Contains(existing, f) {
				existing = append(existing, f)
			}
		}
		t.tls.CertificatesRaw["load_folders"] = caddyconfig.JSON(existing, nil)
	}
	if len(b.CrtLists) == 0 && !b.StrictSNI {
		return caddytls.ConnectionPolicies{policy}
	}
	if len(folders) > 0 {
		t.errorf(b.Pos, "bind", "%s %q: crt-list or strict-sni with a crt directory is not translated; name the directory's files in a crt-list", p.Kind, p.Name)
		return nil
	}
	// Certificates chosen by name: crt-list, or strict-sni, which serves
	// no certificate to a client whose SNI names none.
	return t.crtListPolicies(p, b, policy, cc, files)
}

// certFilePair loads an HAProxy PEM: it holds the certificate chain and
// the key; a ".key" file beside it is used when the PEM has no key.
func certFilePair(path, tag string) caddytls.CertKeyFilePair {
	key := path
	if k := strings.TrimSuffix(path, filepath.Ext(path)) + ".key"; fileExists(k) && !pemHasKey(path) {
		key = k
	}
	return caddytls.CertKeyFilePair{Certificate: path, Key: key, Format: "pem", Tags: []string{tag}}
}

// ensureTLSApp creates the tls app the certificates are loaded into.
func (t *translator) ensureTLSApp() {
	if t.tls == nil {
		t.tls = &caddytls.TLS{CertificatesRaw: caddy.ModuleMap{}}
	}
}

// loadCertFiles adds certificate files to the tls app's load_files.
func (t *translator) loadCertFiles(files []caddytls.CertKeyFilePair) {
	if len(files) == 0 {
		return
	}
	t.ensureTLSApp()
	var existing []caddytls.CertKeyFilePair
	if raw := t.tls.CertificatesRaw["load_files"]; raw != nil {
		_ = json.Unmarshal(raw, &existing)
	}
	for _, f := range files {
		// Binds of one line, or lines of one crt-list, load a file once.
		if !slices.ContainsFunc(existing, func(e caddytls.CertKeyFilePair) bool {
			return e.Certificate == f.Certificate && e.Key == f.Key && slices.Equal(e.Tags, f.Tags)
		}) {
			existing = append(existing, f)
		}
	}
	t.tls.CertificatesRaw["load_files"] = caddyconfig.JSON(existing, nil)
}

// tlsOption applies one TLS option that bind lines and crt-list lines
// share (option holds its name and its argument, if any) to policy, or to
// cc for client certificates. Other options are left to their callers.
func (t *translator) tlsOption(pos config.Pos, keyword string, policy *caddytls.ConnectionPolicy, cc *clientCertOptions, option []string) {
	arg := ""
	if len(option) > 1 {
		arg = option[1]
	}
	switch option[0] {
	case "alpn":
		policy.ALPN = strings.Split(arg, ",")
	case "verify":
		cc.verify = arg
	case "ca-file":
		cc.caFile = arg
	case "ca-verify-file":
		cc.caVerifyFile = arg
	case "crl-file":
		cc.crlFile = arg
	case "ssl-min-ver":
		if v, ok := tlsVersion(arg); ok {
			policy.ProtocolMin = v
		} else {
			t.warnf(pos, keyword, "ssl-min-ver %s: Caddy supports TLS 1.2 and 1.3 only; using its default", arg)
		}
	case "ssl-max-ver":
		if v, ok := tlsVersion(arg); ok {
			policy.ProtocolMax = v
		}
	case "ciphers", "ciphersuites", "curves", "ecdhe", "no-tls-tickets", "no-sslv3", "no-tlsv10", "no-tlsv11", "force-tlsv12", "force-tlsv13", "prefer-client-ciphers", "npn", "no-ca-names", "allow-0rtt":
		t.warnf(pos, keyword, "%s is ignored: Caddy's TLS defaults apply (TLS 1.2+, modern ciphers)", option[0])
	}
}

// applyClientAuth sets the policy's client certificate verification.
func (t *translator) applyClientAuth(pos config.Pos, keyword, subject string, policy *caddytls.ConnectionPolicy, cc clientCertOptions) {
	clientAuth, err := t.clientAuthentication(cc)
	if err != nil {
		t.errorf(pos, keyword, "%s%v", subject, err)
	}
	policy.ClientAuthentication = clientAuth
	if clientAuth != nil && cc.caVerifyFile != "" {
		t.warnf(pos, keyword, "ca-verify-file: Caddy names these CAs in its certificate request too (HAProxy names only ca-file's), so a client that picks its certificate by those names may offer Caddy one it would not offer HAProxy; the certificates accepted are the same")
	}
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

// paramValue returns the word after the last name among params, or "".
func paramValue(params []string, name string) string {
	value := ""
	for i := 0; i+1 < len(params); i++ {
		if params[i] == name {
			value = params[i+1]
		}
	}
	return value
}

func hasParam(params []string, name string) bool {
	for _, p := range params {
		if p == name {
			return true
		}
	}
	return false
}
