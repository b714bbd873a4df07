package l4proxy

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// caddyfileHandler reads the block of a layer4 route's haproxy handler.
// The reader of HAProxy's syntax imports this package, so it installs
// itself here (package caddyfile of this module does).
var caddyfileHandler func(d *caddyfile.Dispenser) (*Handler, error)

// SetCaddyfileReader installs the function that reads the haproxy handler
// of a layer4 route in a Caddyfile. Package caddyfile of this module calls
// it from its init function.
func SetCaddyfileReader(read func(d *caddyfile.Dispenser) (*Handler, error)) {
	caddyfileHandler = read
}

// UnmarshalCaddyfile sets up the handler from a layer4 route in the
// Caddyfile's layer4 global option; its block is an HAProxy listen
// section in mode tcp without bind lines (the layer4 server listens):
//
//	route {
//		haproxy [<backend-name>] {
//			balance leastconn
//			timeout connect 5s
//			timeout client 1m
//			timeout server 1m
//			server db1 10.0.0.1:5432 check
//			server db2 10.0.0.2:5432 check backup
//		}
//	}
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	if caddyfileHandler == nil {
		return d.Err("haproxy: the Caddyfile reader is not linked in; import github.com/caddy-haproxy/caddy-haproxy/caddyfile")
	}
	read, err := caddyfileHandler(d)
	if err != nil {
		return err
	}
	*h = *read
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Handler)(nil)
