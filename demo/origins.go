package demo

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
)

// greeting starts the first line of every origin's answer; the server's
// name follows.
const greeting = "hello from "

// origin is a small web server standing in for one server line.
type origin struct {
	name string
	addr string
	srv  *http.Server
}

// ServeHTTP answers "hello from <name>" and echoes a little of the request,
// so that headers added on the way (X-Forwarded-For, cookies) show.
func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "%s%s\n", greeting, o.name)
	fmt.Fprintf(w, "%s %s %s (Host: %s) from %s\n", r.Method, r.URL.RequestURI(), r.Proto, r.Host, r.RemoteAddr)
	for _, h := range []string{"X-Forwarded-For", "Cookie"} {
		if v := r.Header.Values(h); len(v) > 0 {
			fmt.Fprintf(w, "%s: %s\n", h, strings.Join(v, ", "))
		}
	}
}

// origins are the running origin servers.
type origins struct {
	servers []*origin
}

// startOrigins starts one origin for every server line on a loopback
// address. A server listed in several backends gets one origin, named after
// its first server line.
func startOrigins(cfg *config.Config) (*origins, error) {
	o := &origins{}
	seen := map[string]bool{}
	for _, p := range cfg.Proxies {
		if !p.Kind.HasBackend() {
			continue
		}
		for _, s := range p.Servers {
			addr := net.JoinHostPort(s.Host, s.Port)
			if seen[addr] || !isLoopback(s.Host) || s.Port == "" {
				continue
			}
			seen[addr] = true
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				o.close()
				return nil, fmt.Errorf("%s: cannot start the web server for server %q on %s: %v", s.Pos, s.Name, addr, err)
			}
			srv := &origin{name: s.Name, addr: addr}
			srv.srv = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
			go srv.srv.Serve(ln)
			o.servers = append(o.servers, srv)
		}
	}
	return o, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String lists the origins as "s1 on 127.0.0.1:9001, …".
func (o *origins) String() string {
	parts := make([]string, len(o.servers))
	for i, s := range o.servers {
		parts[i] = s.name + " on " + s.addr
	}
	return strings.Join(parts, ", ")
}

// close stops every origin, letting requests in flight finish for a moment.
func (o *origins) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range o.servers {
		_ = s.srv.Shutdown(ctx)
	}
}
