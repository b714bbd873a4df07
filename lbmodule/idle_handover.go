package lbmodule

import (
	"net"
	"net/http"
	"reflect"
	"slices"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/handover"
)

// idleHandoverServers holds the HTTP servers whose idle keep-alive
// connections are watched, so that a server gets one hook however many
// wrappers it lists.
var idleHandoverServers sync.Map // *caddyhttp.Server → struct{}

// watchIdleConns makes the HTTP server being provisioned with ctx, if any,
// tell the shared-socket connection under each of its HTTP/1 connections
// when it goes idle, so that the keep-alive connections it closes when its
// config stops go to the newer config (see handover.Conn.Idle). It returns
// the server watched, nil if none; unwatchIdleConns forgets it.
func watchIdleConns(ctx caddy.Context) *caddyhttp.Server {
	srv, _ := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if srv == nil || slices.Contains(srv.Protocols, "h2c") {
		// Not an HTTP server, or one whose cleartext connections may
		// turn into HTTP/2, which cannot be replayed.
		return nil
	}
	if _, loaded := idleHandoverServers.LoadOrStore(srv, struct{}{}); loaded {
		return nil
	}
	srv.RegisterConnState(markIdle)
	return srv
}

// unwatchIdleConns forgets srv once its config stops.
func unwatchIdleConns(srv *caddyhttp.Server) {
	if srv != nil {
		idleHandoverServers.Delete(srv)
	}
}

// markIdle is the ConnState hook of watched servers.
func markIdle(c net.Conn, state http.ConnState) {
	if state != http.StateIdle {
		return
	}
	if hc := handover.Find(unwrapHTTPVersionCheck(c)); hc != nil {
		hc.Idle()
	}
}

// unwrapHTTPVersionCheck returns the connection under the wrapper with
// which Caddy checks that a cleartext connection does not start as HTTP/2
// when the server speaks only HTTP/1 (an unexported type with no NetConn;
// past the first bytes it passes reads through). Other connections are
// returned as they are.
func unwrapHTTPVersionCheck(c net.Conn) net.Conn {
	v := reflect.ValueOf(c)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return c
	}
	t := v.Elem().Type()
	if t.PkgPath() != http2ConnType.PkgPath || t.Name() != http2ConnType.Name {
		return c
	}
	inner, _ := v.Elem().FieldByName("Conn").Interface().(net.Conn)
	if inner == nil {
		return c
	}
	return inner
}

// http2ConnType names Caddy's HTTP version check wrapper.
var http2ConnType = struct{ PkgPath, Name string }{
	PkgPath: reflect.TypeFor[caddyhttp.Server]().PkgPath(),
	Name:    "http2Conn",
}
