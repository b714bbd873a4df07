package lbmodule

import (
	"context"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestWatchIdleConnsOncePerHTTP1Server checks which servers get the idle
// hook: an HTTP/1 server once however many wrappers ask, and neither a
// server that may speak cleartext HTTP/2 nor a context without a server.
func TestWatchIdleConnsOncePerHTTP1Server(t *testing.T) {
	provisioning := func(srv *caddyhttp.Server) caddy.Context {
		return caddy.Context{Context: context.WithValue(context.Background(), caddyhttp.ServerCtxKey, srv)}
	}
	h1 := &caddyhttp.Server{Protocols: []string{"h1"}}
	if got := watchIdleConns(provisioning(h1)); got != h1 {
		t.Fatalf("HTTP/1 server not watched: %v", got)
	}
	if got := watchIdleConns(provisioning(h1)); got != nil {
		t.Fatal("HTTP/1 server watched twice")
	}
	unwatchIdleConns(h1)
	if _, ok := idleHandoverServers.Load(h1); ok {
		t.Fatal("server still remembered after its wrapper's cleanup")
	}
	if got := watchIdleConns(provisioning(&caddyhttp.Server{Protocols: []string{"h1", "h2c"}})); got != nil {
		t.Fatal("a server speaking h2c was watched")
	}
	if got := watchIdleConns(caddy.Context{Context: context.Background()}); got != nil {
		t.Fatal("watched without a server")
	}
}
