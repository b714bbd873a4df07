// Package transport provides the Caddy module
// http.reverse_proxy.transport.haproxy, the transport of the haproxy
// adapter's backends: Caddy's HTTP transport that verifies server
// certificates as HAProxy does (the chain always, the name only when one is
// known) and reports each request's connection and response times to the
// request's statistics. It also provides the verification the health
// checks use.
package transport

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/source"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/tcpkeepalive"
)

func init() {
	caddy.RegisterModule(Transport{})
}

// Transport is Caddy's HTTP transport that tells a request's Observer
// (see ObserverVar) when it connects to the server and when the response
// arrives, and whose TLS verifies the server's certificate as HAProxy's
// "verify required" does. HAProxy checks the name
// in the certificate against the SNI it sent, or, when it sent none,
// against "verifyhost"; with neither it checks only that the certificate
// chains to a trusted CA. Caddy's own transport always checks a name (the
// upstream's address when no server_name is set), which an upstream
// dialled by IP address rarely carries.
//
// With a server_name, or insecure_skip_verify, or without TLS, Caddy's
// verification applies.
type Transport struct {
	reverseproxy.HTTPTransport

	// VerifyHost is the name the server certificate must carry when no
	// server_name is set; empty checks the certificate chain only.
	VerifyHost string `json:"verify_host,omitempty"`

	// ServerKeepAlive, when set, sets the TCP keep-alive probes of the
	// connections to servers (HAProxy's "option srvtcpka" with
	// srvtcpka-idle, -intvl and -cnt) in place of keep_alive's
	// probe_interval.
	ServerKeepAlive *tcpkeepalive.Probes `json:"server_tcp_keepalive,omitempty"`

	// UseSrc connects to servers from an address that is not the host's
	// own (HAProxy's "usesrc", transparent proxying; Linux, with
	// CAP_NET_ADMIN and routing that brings the answers back): "clientip"
	// the client's address, "client" its address and port, or an
	// "ip[:port]". Connections are then not kept alive for other
	// requests, since each is a client's own; local_address and
	// proxy_protocol do not apply with it.
	UseSrc string `json:"usesrc,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (Transport) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.reverse_proxy.transport.haproxy",
		New: func() caddy.Module { return new(Transport) },
	}
}

// Provision builds Caddy's transport (without keep-alive for usesrc),
// has its dials observed (bound to the client's address for usesrc, with
// the keep-alive probes asked for), then replaces its name check.
func (t *Transport) Provision(ctx caddy.Context) error {
	src, err := source.ParseUseSrc(t.UseSrc)
	if err != nil {
		return err
	}
	if src != nil {
		if t.ProxyProtocol != "" || t.LocalAddress != "" {
			return errors.New("usesrc does not go with proxy_protocol or local_address")
		}
		off := false
		t.KeepAlive = &reverseproxy.KeepAlive{Enabled: &off}
	}
	if err := t.HTTPTransport.Provision(ctx); err != nil {
		return err
	}
	if src != nil {
		t.Transport.DialContext = t.transparentDial(src)
	}
	t.Transport.DialContext = observeDials(withKeepAlive(t.Transport.DialContext, t.ServerKeepAlive))
	if t.TLS == nil || t.TLS.InsecureSkipVerify || t.TLS.ServerName != "" {
		if t.VerifyHost != "" {
			return errors.New("verify_host applies only to TLS without server_name and insecure_skip_verify")
		}
		return nil
	}
	conf := t.Transport.TLSClientConfig
	// The verification below replaces Go's, which would also check the
	// address the request was sent to.
	conf.VerifyConnection = VerifyConnection(conf.RootCAs, t.VerifyHost)
	conf.InsecureSkipVerify = true
	return nil
}

// RoundTrip sends the request with Caddy's transport and tells the
// request's Observer when the round trip begins and when the response
// header has arrived.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	obs := observerOf(req.Context())
	if obs != nil {
		obs.RoundTripStart()
	}
	resp, err := t.HTTPTransport.RoundTrip(req)
	if obs != nil && err == nil {
		obs.GotResponse()
	}
	return resp, err
}

// withKeepAlive has dial set the probes on each connection it makes,
// unless probes is nil.
func withKeepAlive(dial func(context.Context, string, string) (net.Conn, error), probes *tcpkeepalive.Probes) func(context.Context, string, string) (net.Conn, error) {
	if probes == nil {
		return dial
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		conn, err := dial(ctx, network, address)
		if err != nil {
			return nil, err
		}
		// A socket that refuses the options is used anyway, as by
		// HAProxy, which does not check them either.
		_ = probes.Apply(conn)
		return conn, nil
	}
}

// Interface guards
var (
	_ caddy.Provisioner  = (*Transport)(nil)
	_ caddy.CleanerUpper = (*Transport)(nil)
	_ http.RoundTripper  = (*Transport)(nil)
)
