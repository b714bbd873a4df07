package lbmodule

import (
	"fmt"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/sched"
)

// newAlgorithm builds cfg's load-balancing algorithm over servers, which
// reads server state through pool.
func newAlgorithm(cfg BackendConfig, servers []sched.Server, pool sched.Pool) (sched.Algorithm, error) {
	switch cfg.Balance {
	case "", "roundrobin":
		return sched.NewRoundRobin(servers, pool, cfg.AllBackups), nil
	}
	return nil, fmt.Errorf("balance %q is not supported", cfg.Balance)
}
