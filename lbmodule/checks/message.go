package checks

import "strings"

// Counts are the backend figures HAProxy appends to a transition log
// line, taken after the transition.
type Counts struct {
	// Active and Backup count the servers that take load-balanced
	// traffic (HAProxy's srv_act and srv_bck).
	Active, Backup int
	// Sessions is the number of requests or connections the server is
	// serving.
	Sessions int
	// Requeued is the number of queued requests moved by the transition.
	Requeued int
	// Queued is the number of requests left in the server's queue.
	Queued int
}

// Event is what a Checker reports after each check.
type Event struct {
	// Backend and Server name the server; Backup marks a backup server.
	Backend, Server string
	Backup          bool
	// Result is the check's outcome.
	Result Result
	// State is the health after the check.
	State State
	// Moved reports whether the check moved the health counter; HAProxy
	// logs such checks with "option log-health-checks".
	Moved bool
	// Transition is the change of operational state, if any.
	Transition Transition
	// Resumed reports that the server left maintenance: its state was
	// reset to UP with health = rise, before any check (Result is the
	// last check's). It comes with no Transition and nothing to log:
	// leaving maintenance is logged by whoever cleared it.
	Resumed bool
	// LogHealthChecks is the backend's "option log-health-checks".
	LogHealthChecks bool
}

// CheckMessage is HAProxy's "option log-health-checks" line for a check
// that moved the health counter, e.g. "Health check for server be/s1
// failed, reason: Layer4 connection problem, info: "Connection refused",
// check duration: 0ms, status: 0/2 DOWN." drain reports a server with
// weight 0, which HAProxy calls DRAIN instead of UP.
func (e Event) CheckMessage(drain bool) string {
	var b strings.Builder
	b.WriteString("Health check for ")
	if e.Backup {
		b.WriteString("backup ")
	}
	b.WriteString("server " + e.Backend + "/" + e.Server + " ")
	if e.Result.Code == L7OKC {
		b.WriteString("conditionally ")
	}
	if e.Result.Code.Passed() {
		b.WriteString("succeeded")
	} else {
		b.WriteString("failed")
	}
	e.Result.describe(&b)
	x, y := e.State.counter()
	b.WriteString(", status: " + itoa(x) + "/" + itoa(y) + " ")
	switch {
	case e.State.Health < e.State.Rise:
		b.WriteString("DOWN")
	case drain:
		b.WriteString("DRAIN")
	default:
		b.WriteString("UP")
	}
	b.WriteString(".")
	return b.String()
}

// TransitionMessage is HAProxy's line for e's transition, e.g. "Server
// be/s1 is DOWN, reason: Layer4 connection problem, info: "Connection
// refused", check duration: 0ms. 1 active and 1 backup servers left. 0
// sessions active, 0 requeued, 0 remaining in queue." With
// log-health-checks the check details are left out, as HAProxy does
// (they were in the check's own line). It is "" when e has no
// transition.
func (e Event) TransitionMessage(c Counts) string {
	var b strings.Builder
	if e.Backup {
		b.WriteString("Backup ")
	}
	b.WriteString("Server " + e.Backend + "/" + e.Server + " is ")
	switch e.Transition {
	case WentDown:
		b.WriteString("DOWN")
	case WentUp:
		b.WriteString("UP")
	case WentStopping:
		b.WriteString("stopping")
	default:
		return ""
	}
	if !e.LogHealthChecks {
		e.Result.describe(&b)
	}
	b.WriteString(". " + itoa(c.Active) + " active and " + itoa(c.Backup) + " backup servers ")
	if e.Transition == WentDown {
		b.WriteString("left.")
	} else {
		b.WriteString("online.")
	}
	if c.Backup > 0 && c.Active == 0 {
		b.WriteString(" Running on backup.")
	}
	if e.Transition == WentDown {
		b.WriteString(" " + itoa(c.Sessions) + " sessions active, " + itoa(c.Requeued) + " requeued, " + itoa(c.Queued) + " remaining in queue.")
	} else {
		b.WriteString(" " + itoa(c.Requeued) + " sessions requeued, " + itoa(c.Queued) + " total in queue.")
	}
	return b.String()
}

// NoServerMessage is HAProxy's alert when a backend loses its last
// usable server.
func NoServerMessage(backend string) string {
	return "backend " + backend + " has no server available!"
}
