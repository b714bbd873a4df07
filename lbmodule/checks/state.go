package checks

import "time"

// State is a server's health as its checks see it: HAProxy's health
// counter, which runs from 0 to Rise+Fall-1. The server is up from Rise
// on; a success once up jumps to Rise+Fall-1 ("fully up"), and a failure
// that takes it below Rise drops it to 0.
type State struct {
	Health int
	Rise   int
	Fall   int
	// Up is the operational state the checks decided.
	Up bool
	// Stopping is HAProxy's NOLB: up, but answering 404 to an HTTP check
	// with disable-on-404, so it takes no new load-balanced traffic.
	Stopping bool
}

// initialState is where HAProxy 2.6 starts a checked server: up, with
// health = rise, so that one success makes it fully up and one failure
// takes it down. A server starting in maintenance starts at 0, down.
func initialState(p params, down bool) State {
	if down {
		return State{Health: 0, Rise: p.rise, Fall: p.fall}
	}
	return State{Health: p.rise, Rise: p.rise, Fall: p.fall, Up: true}
}

// FullyUp reports whether the health counter is at its top.
func (s State) FullyUp() bool { return s.Health == s.Rise+s.Fall-1 }

// Label is the state as the stats page writes it: "UP", "UP 1/3" (going
// down), "DOWN", "DOWN 1/2" (going up), "NOLB", "NOLB 2/3".
func (s State) Label() string {
	switch {
	case !s.Up && s.Health == 0:
		return "DOWN"
	case !s.Up:
		return "DOWN " + itoa(s.Health) + "/" + itoa(s.Rise)
	}
	word := "UP"
	if s.Stopping {
		word = "NOLB"
	}
	if s.FullyUp() {
		return word
	}
	return word + " " + itoa(s.Health-s.Rise+1) + "/" + itoa(s.Fall)
}

// counter is the "x/y" of HAProxy's "status: x/y UP" log suffix.
func (s State) counter() (int, int) {
	if s.Health >= s.Rise {
		return s.Health - s.Rise + 1, s.Fall
	}
	return s.Health, s.Rise
}

// Transition is a change of operational state caused by a check.
type Transition int

// Transitions.
const (
	NoChange Transition = iota
	// WentDown: the server is now DOWN.
	WentDown
	// WentUp: the server is now UP (running).
	WentUp
	// WentStopping: the server is now NOLB (disable-on-404).
	WentStopping
)

// apply moves s by one check result. It reports whether the health
// counter moved (HAProxy then logs the check with log-health-checks),
// whether the failed-check counter must grow, and the transition.
func (s *State) apply(r Result) (moved, failed bool, tr Transition) {
	if !r.Code.Passed() {
		if s.Health > 0 {
			moved, failed = true, true
			s.Health--
			if s.Health < s.Rise {
				s.Health = 0
			}
		}
		if s.Health == 0 && s.Up {
			s.Up, s.Stopping = false, false
			tr = WentDown
		}
		return moved, failed, tr
	}
	if top := s.Rise + s.Fall - 1; s.Health < top {
		moved = true
		s.Health++
		if s.Health >= s.Rise {
			s.Health = top
		}
	}
	if s.Health < s.Rise {
		return moved, false, NoChange
	}
	stopping := r.Code == L7OKC
	switch {
	case !s.Up:
		s.Up, s.Stopping = true, stopping
		if stopping {
			return moved, false, WentStopping
		}
		return moved, false, WentUp
	case stopping && !s.Stopping:
		s.Stopping = true
		return moved, false, WentStopping
	case !stopping && s.Stopping:
		s.Stopping = false
		return moved, false, WentUp
	}
	return moved, false, NoChange
}

// Status is everything the stats page shows about a server's checks.
type Status struct {
	State
	// Last is the result of the last completed check; its Code is
	// Initializing before the first one.
	Last Result
	// InProgress is set while a check runs (the stats page then prefixes
	// the code with "* ").
	InProgress bool
	// LastChange is when the operational state last changed (or when
	// checking started).
	LastChange time.Time
	// FailedChecks counts failed checks of a server that was not already
	// at health 0 (HAProxy's chkfail).
	FailedChecks int64
	// DownTransitions counts UP to DOWN transitions (chkdown).
	DownTransitions int64
	// Downtime is the total time spent DOWN, the current period included.
	Downtime time.Duration
	// Disabled reports checks turned off at run time ("disable health").
	Disabled bool
}

// StatusText is the stats page's check_status: the last code, prefixed
// with "* " while a check is in progress.
func (s Status) StatusText() string {
	if s.InProgress {
		return "* " + string(s.Last.Code)
	}
	return string(s.Last.Code)
}
