package runtimeapi

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
)

// HAProxy's answers when a backend or server cannot be found.
const (
	msgNoBackend     = "No such backend.\n"
	msgNoServer      = "No such server.\n"
	msgRequireServer = "Require 'backend/server'.\n"
)

// OrderedBackends lists the current backends in HAProxy's order, the order of
// their ids (which follows the configuration), then by name.
func OrderedBackends() []*lbmodule.Backend {
	list := lbmodule.Backends()
	sort.SliceStable(list, func(i, j int) bool { return list[i].ID() < list[j].ID() })
	return list
}

// FindBackend finds a backend by name or by "#<id>".
func FindBackend(ref string) *lbmodule.Backend {
	if id, ok := strings.CutPrefix(ref, "#"); ok {
		n, err := strconv.Atoi(id)
		if err != nil {
			return nil
		}
		for _, b := range OrderedBackends() {
			if b.ID() == n && n != 0 {
				return b
			}
		}
		return nil
	}
	b, _ := lbmodule.LookupBackend(ref)
	return b
}

// FindServer reads "<backend>/<server>", each part a name or "#<id>", and
// returns the server or HAProxy's message saying why there is none.
func FindServer(arg string) (*lbmodule.Backend, *lbmodule.Server, string) {
	be, sv, ok := strings.Cut(arg, "/")
	if !ok || arg == "" {
		return nil, nil, msgRequireServer
	}
	b := FindBackend(be)
	if b == nil {
		return nil, nil, msgNoBackend
	}
	if id, ok := strings.CutPrefix(sv, "#"); ok {
		n, err := strconv.Atoi(id)
		if err == nil {
			for _, s := range b.Servers() {
				if s.ID == n {
					return b, s, ""
				}
			}
		}
		return nil, nil, msgNoServer
	}
	if s := b.Server(sv); s != nil {
		return b, s, ""
	}
	return nil, nil, msgNoServer
}

// serversStateHeader is the column line of "show servers state" (the
// format of HAProxy's server-state file, version 1).
const serversStateHeader = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"

// Bits of HAProxy's check state (srv_check_state, srv_agent_state).
const (
	checkConfigured = 0x02
	checkEnabled    = 0x04
	checkPaused     = 0x08
	checkAgent      = 0x10
)

// showServersState writes "show servers state [<backend>]".
func showServersState(w *strings.Builder, args []string) {
	list := OrderedBackends()
	if len(args) > 0 && args[0] != "" {
		b := FindBackend(args[0])
		if b == nil {
			w.WriteString("Can't find backend.\n")
			return
		}
		list = []*lbmodule.Backend{b}
	}
	w.WriteString(serversStateHeader)
	now := time.Now()
	for _, b := range list {
		for _, s := range b.Servers() {
			writeServerState(w, b, s, now)
		}
	}
}

func writeServerState(w *strings.Builder, b *lbmodule.Backend, s *lbmodule.Server, now time.Time) {
	sc := b.Config().Servers[s.Index()]
	host, port := splitDial(s.Dial)
	status, result, health := 1, 0, s.UncheckedHealth() // INI, unknown
	checkState := 0
	if st, ok := b.HealthStatus(s.Name); ok {
		status, result, health = statusNumber(st.Last.Code), resultNumber(st.Last.Code), st.Health
		checkState = checkConfigured
		if !st.Disabled {
			checkState |= checkEnabled
		}
		if s.AdminState() == lbmodule.AdminMaint {
			checkState |= checkPaused
		}
	}
	agentState, agentPort, agentAddr := 0, 0, "-"
	if sc.AgentCheck != nil {
		agentPort = sc.AgentCheck.Port
		if sc.AgentCheck.Addr != "" {
			agentAddr = sc.AgentCheck.Addr
		}
		agentState = checkConfigured | checkAgent
		if on, _ := b.AgentCheckEnabled(s.Name); on {
			agentState |= checkEnabled
		}
		if s.AdminState() == lbmodule.AdminMaint {
			agentState |= checkPaused
		}
	}
	checkPort, checkAddr := 0, "-"
	if sc.Check != nil {
		checkPort = sc.Check.Port
		if sc.Check.Addr != "" {
			checkAddr = sc.Check.Addr
		}
	}
	forcedID := 0
	if sc.ID != 0 {
		forcedID = 1
	}
	fmt.Fprintf(w, "%d %s %d %s %s %d %d %d %d %d %d %d %d %d %d %d %d - %s - %d %d %s %s %d\n",
		b.ID(), b.Name(), s.ID, s.Name, host, opState(b, s), s.AdminFlags(), s.Weight(), s.ConfigWeight,
		int64(now.Sub(s.LastChange())/time.Second), status, result, health, checkState, agentState,
		0, forcedID, port, 0, checkPort, checkAddr, agentAddr, agentPort)
}

// opState is HAProxy's srv_op_state: 0 stopped (down or in maintenance),
// 1 starting (slow start), 2 running, 3 stopping (NOLB).
func opState(b *lbmodule.Backend, s *lbmodule.Server) int {
	switch {
	case !s.Up() || s.AdminState() == lbmodule.AdminMaint:
		return 0
	case s.Stopping():
		return 3
	}
	if _, starting := b.Throttle(s); starting {
		return 1
	}
	return 2
}

// splitDial splits a dial address into the host and port that HAProxy's
// srv_addr and srv_port show.
func splitDial(dial string) (string, string) {
	host, port, err := net.SplitHostPort(dial)
	if err != nil {
		return dial, "0"
	}
	return host, port
}

// statusNumber is the code's number in HAProxy's enum of check statuses,
// as the server-state file writes it.
func statusNumber(c checks.Code) int {
	switch c {
	case checks.Unknown:
		return 0
	case checks.Initializing:
		return 1
	case checks.Checked:
		return 3
	case checks.SockErr:
		return 5
	case checks.L4OK:
		return 6
	case checks.L4TOUT:
		return 7
	case checks.L4CON:
		return 8
	case checks.L6OK:
		return 9
	case checks.L6TOUT:
		return 10
	case checks.L6RSP:
		return 11
	case checks.L7TOUT:
		return 12
	case checks.L7RSP:
		return 13
	case checks.L7OK:
		return 15
	case checks.L7OKC:
		return 16
	case checks.L7STS:
		return 17
	}
	return 0
}

// resultNumber is HAProxy's check result: 0 unknown, 1 neutral, 2 failed,
// 3 passed, 4 conditionally passed.
func resultNumber(c checks.Code) int {
	switch {
	case c == checks.Initializing || c == checks.Unknown:
		return 0
	case c == checks.Checked:
		return 1
	case c == checks.L7OKC:
		return 4
	case c.Passed():
		return 3
	}
	return 2
}

// showBackend writes "show backend": every backend's name.
func showBackend(w *strings.Builder) {
	w.WriteString("# name\n")
	for _, b := range OrderedBackends() {
		w.WriteString(b.Name())
		w.WriteByte('\n')
	}
}
