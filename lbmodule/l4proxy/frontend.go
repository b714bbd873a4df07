package l4proxy

import (
	"sync"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// frontendCounters counts a frontend's connections and bytes. They live as
// long as the process, keyed by name, so a reload keeps them, as it keeps
// servers' counters.
type frontendCounters struct {
	counters lbmodule.Counters
}

var frontends sync.Map // name -> *frontendCounters

func openFrontend(name string) *frontendCounters {
	v, _ := frontends.LoadOrStore(name, new(frontendCounters))
	return v.(*frontendCounters)
}

// FrontendCounters returns the counters of the named frontend's TCP
// connections: Current, Max, Sessions (the total), BytesIn and BytesOut;
// nil when no handler has counted for that name.
func FrontendCounters(name string) *lbmodule.Counters {
	if v, ok := frontends.Load(name); ok {
		return &v.(*frontendCounters).counters
	}
	return nil
}

func (f *frontendCounters) open() { f.counters.Open() }

func (f *frontendCounters) close() { f.counters.Close() }
