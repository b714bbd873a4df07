package lbmodule

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// caddyfileBackend reads the block of "lb_policy haproxy" into a backend
// configuration. The reader of HAProxy's syntax imports this package, so
// it installs itself here (package caddyfile of this module does).
var caddyfileBackend func(d *caddyfile.Dispenser) (BackendConfig, error)

// SetCaddyfileReader installs the function that reads the block of
// "lb_policy haproxy" in a Caddyfile. Package caddyfile of this module
// calls it from its init function.
func SetCaddyfileReader(read func(d *caddyfile.Dispenser) (BackendConfig, error)) {
	caddyfileBackend = read
}

// UnmarshalCaddyfile sets up the policy from a reverse_proxy's lb_policy
// line, whose block is an HAProxy backend section:
//
//	lb_policy haproxy [<backend-name>] {
//		balance roundrobin
//		server s1 10.0.0.1:80 weight 5 check
//		server s2 10.0.0.2:80 weight 3 check
//	}
//
// The servers are the reverse_proxy's upstreams, in order: a reverse_proxy
// without "to" gets them at provisioning.
func (p *HTTPSelection) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	if caddyfileBackend == nil {
		return d.Err("lb_policy haproxy: the Caddyfile reader is not linked in; import github.com/caddy-haproxy/caddy-haproxy/caddyfile")
	}
	bc, err := caddyfileBackend(d)
	if err != nil {
		return err
	}
	p.BackendConfig = bc
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*HTTPSelection)(nil)
