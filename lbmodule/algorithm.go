package lbmodule

import (
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/sched"
)

// schedConfig is the algorithm part of a backend configuration.
func schedConfig(cfg BackendConfig) sched.Config {
	return sched.Config{
		Balance:       cfg.Balance,
		Param:         cfg.BalanceParam,
		Args:          cfg.BalanceArgs,
		HashType:      cfg.HashType,
		HashFunction:  cfg.HashFunction,
		HashAvalanche: cfg.HashAvalanche,
		AllBackups:    cfg.AllBackups,
	}
}

// newAlgorithm builds cfg's load-balancing algorithm over servers, which
// reads server state through pool.
func newAlgorithm(cfg BackendConfig, servers []sched.Server, pool sched.Pool) (sched.Algorithm, error) {
	return sched.New(schedConfig(cfg), servers, pool)
}

// isStatic reports whether cfg's algorithm is map-based (static-rr and
// map-based hashing), which accepts a runtime weight of 0 or the
// configured weight only.
func isStatic(cfg BackendConfig) bool { return !schedConfig(cfg).Dynamic() }
