package adminapi

import (
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// backendView is a backend as the admin API shows it.
type backendView struct {
	// Name and ID are the backend's name and numeric id.
	Name string `json:"name"`
	ID   int    `json:"id,omitempty"`
	// Balance is the load-balancing algorithm.
	Balance string `json:"balance"`
	// Active and Backup count the servers taking load-balanced traffic.
	Active int `json:"active"`
	Backup int `json:"backup"`
	// The backend's counters; its queue holds the requests waiting for
	// any server.
	countersView
	// Servers in declaration order.
	Servers []serverView `json:"servers"`
}

// serverView is a server as the admin API shows it.
type serverView struct {
	Name    string `json:"name"`
	ID      int    `json:"id"`
	Address string `json:"address"`
	Backup  bool   `json:"backup,omitempty"`
	// AdminState is READY, DRAIN or MAINT; AdminFlags HAProxy's bits.
	AdminState string `json:"admin_state"`
	AdminFlags uint32 `json:"admin_flags"`
	// Up is the operational state; Stopping is NOLB.
	Up       bool `json:"up"`
	Stopping bool `json:"stopping,omitempty"`
	// Usable reports whether load balancing may choose the server.
	Usable bool `json:"usable"`
	// Weight is the current user weight, InitialWeight the configured one.
	Weight        int `json:"weight"`
	InitialWeight int `json:"initial_weight"`
	// LastChange is the seconds since the state last changed.
	LastChange int64 `json:"last_change"`
	// HealthCheck and AgentCheck are set when the server has them.
	HealthCheck *checkView `json:"health_check,omitempty"`
	AgentCheck  *checkView `json:"agent_check,omitempty"`
	// The server's counters.
	countersView
}

// countersView is the counters of a backend or a server, inlined in its
// view.
type countersView struct {
	// Current, Max, Total and Sessions are requests in flight, their
	// highest number, load-balanced picks and requests served.
	Current  int64 `json:"current"`
	Max      int64 `json:"max"`
	Total    int64 `json:"total"`
	Sessions int64 `json:"sessions"`
	// Queue and QueueMax are the requests waiting in the queue.
	Queue    int64 `json:"queue"`
	QueueMax int64 `json:"queue_max"`
}

func viewCounters(c *lbmodule.Counters) countersView {
	return countersView{
		Current: c.Current.Load(), Max: c.Max.Load(), Total: c.Total.Load(), Sessions: c.Sessions.Load(),
		Queue: c.QueueCurrent.Load(), QueueMax: c.QueueMax.Load(),
	}
}

// checkView is a server's health or agent check.
type checkView struct {
	// Enabled is false after the checks were turned off at run time.
	Enabled bool `json:"enabled"`
	// Status is the last result's code (L4OK, L7STS …) and Info its
	// detail.
	Status string `json:"status"`
	Info   string `json:"info,omitempty"`
	// Health, Rise and Fall are the health counter and its bounds (health
	// checks only).
	Health int `json:"health,omitempty"`
	Rise   int `json:"rise,omitempty"`
	Fall   int `json:"fall,omitempty"`
}

func viewBackend(b *lbmodule.Backend) backendView {
	active, backup := b.UsableCounts()
	v := backendView{
		Name: b.Name(), ID: b.ID(), Balance: b.Config().Balance, Active: active, Backup: backup,
		countersView: viewCounters(b.Counters()),
		Servers:      []serverView{},
	}
	if v.Balance == "" {
		v.Balance = "roundrobin"
	}
	for _, s := range b.Servers() {
		v.Servers = append(v.Servers, viewServer(b, s))
	}
	return v
}

func viewServer(b *lbmodule.Backend, s *lbmodule.Server) serverView {
	v := serverView{
		Name: s.Name, ID: s.ID, Address: s.Dial, Backup: s.Backup,
		AdminState: s.AdminState().String(), AdminFlags: s.AdminFlags(),
		Up: s.Up(), Stopping: s.Stopping(), Usable: s.Usable(),
		Weight: s.Weight(), InitialWeight: s.ConfigWeight,
		LastChange:   int64(time.Since(s.LastChange()) / time.Second),
		countersView: viewCounters(s.Counters()),
	}
	if st, ok := b.HealthStatus(s.Name); ok {
		v.HealthCheck = &checkView{Enabled: !st.Disabled, Status: string(st.Last.Code), Info: st.Last.Info,
			Health: st.Health, Rise: st.Rise, Fall: st.Fall}
	}
	if r, ok := b.AgentStatus(s.Name); ok {
		on, _ := b.AgentCheckEnabled(s.Name)
		v.AgentCheck = &checkView{Enabled: on, Status: string(r.Code), Info: r.Info}
	}
	return v
}
