package lbmodule

import (
	"fmt"
	"net/http"
)

// keyer computes the hash of a request's key for hash-based algorithms.
type keyer interface {
	// key returns the key's hash, or false when the request has no key
	// (the algorithm then falls back to round robin).
	key(r *http.Request) (uint32, bool)
}

// newKeyer returns the keyer for cfg's algorithm, or nil when the
// algorithm needs no key.
func newKeyer(cfg BackendConfig) (keyer, error) {
	if !isHashBased(cfg.Balance) || cfg.Balance == "random" {
		return nil, nil
	}
	return nil, fmt.Errorf("balance %s is not supported", cfg.Balance)
}
