package lbmodule

import (
	"sort"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// frontends holds one *Frontend per frontend name, shared by the handlers
// that count for it, so its counters survive config reloads.
var frontends = caddy.NewUsagePool()

// processStart is when the plugin was loaded: the start of the uptime and
// of the first state period of every object, as HAProxy's process start.
var processStart = time.Now()

// ProcessStart returns when the process started serving.
func ProcessStart() time.Time { return processStart }

// Frontend is the runtime side of an HAProxy frontend (or of a listen
// section's frontend half): its name, id and counters. Caddy has no
// frontend object; the haproxy_frontend handler, placed first in the
// frontend's routes, counts its sessions, requests, bytes and responses.
type Frontend struct {
	name string

	mu sync.Mutex
	// configs are the settings of the live handlers, newest last.
	configs []FrontendConfig

	counters Counters
}

// FrontendConfig describes a frontend for the stats page.
type FrontendConfig struct {
	// Name is the frontend's name, which keys its counters.
	Name string `json:"name"`
	// ID is the proxy id (HAProxy's iid), which orders the stats page;
	// 0 sorts after the numbered ones, by name.
	ID int `json:"id,omitempty"`
	// MaxConn is the frontend's maxconn, shown as its session limit
	// (slim); 0 leaves it empty.
	MaxConn int `json:"maxconn,omitempty"`
	// Mode is "http" (default) or "tcp".
	Mode string `json:"mode,omitempty"`
	// Listen marks the frontend side of a listen section: the stats show
	// its BACKEND row even when it has no servers (a section serving only
	// the stats page).
	Listen bool `json:"listen,omitempty"`
}

// Destruct implements caddy.Destructor.
func (*Frontend) Destruct() error { return nil }

// OpenFrontend returns the frontend of cfg.Name, sharing its counters with
// earlier handlers of the same name; CloseFrontend undoes it.
func OpenFrontend(cfg FrontendConfig) (*Frontend, error) {
	f, err := acquireFrontend(cfg.Name)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.configs = append(f.configs, cfg)
	f.mu.Unlock()
	return f, nil
}

// acquireFrontend takes a reference on the frontend of the given name,
// which releaseFrontend drops.
func acquireFrontend(name string) (*Frontend, error) {
	v, _, err := frontends.LoadOrNew(name, func() (caddy.Destructor, error) {
		return &Frontend{name: name}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Frontend), nil
}

func releaseFrontend(f *Frontend) { _, _ = frontends.Delete(f.name) }

// CloseFrontend drops a reference taken by OpenFrontend with cfg.
func CloseFrontend(f *Frontend, cfg FrontendConfig) {
	if f == nil {
		return
	}
	f.mu.Lock()
	for i := len(f.configs) - 1; i >= 0; i-- {
		if f.configs[i] == cfg {
			f.configs = append(f.configs[:i:i], f.configs[i+1:]...)
			break
		}
	}
	f.mu.Unlock()
	releaseFrontend(f)
}

// Name returns the frontend's name.
func (f *Frontend) Name() string { return f.name }

// Config returns the newest configuration of the frontend.
func (f *Frontend) Config() FrontendConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.configs) == 0 {
		return FrontendConfig{Name: f.name}
	}
	return f.configs[len(f.configs)-1]
}

// Counters returns the frontend's counters.
func (f *Frontend) Counters() *Counters { return &f.counters }

// LookupFrontend returns the frontend of the given name.
func LookupFrontend(name string) (*Frontend, bool) {
	var found *Frontend
	frontends.Range(func(key, value any) bool {
		if key.(string) == name {
			found = value.(*Frontend)
			return false
		}
		return true
	})
	return found, found != nil
}

// Frontends returns every frontend, sorted by name.
func Frontends() []*Frontend {
	var list []*Frontend
	frontends.Range(func(_, value any) bool {
		list = append(list, value.(*Frontend))
		return true
	})
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	return list
}
