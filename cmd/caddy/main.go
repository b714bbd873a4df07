// Command caddy is Caddy with its standard modules, the caddy-l4 layer4 app
// and every module of caddy-haproxy. Build it with:
//
//	go build -o caddy ./cmd/caddy
package main

import (
	_ "time/tzdata"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/mholt/caddy-l4"

	_ "github.com/caddy-haproxy/caddy-haproxy"
	_ "github.com/caddy-haproxy/caddy-haproxy/demo"
)

func main() {
	caddycmd.Main()
}
