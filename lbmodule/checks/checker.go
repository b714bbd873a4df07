package checks

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Options describe the server a Checker checks and where its results go.
type Options struct {
	// Backend and Server name the server, for events and messages.
	Backend, Server string
	// Backup marks a backup server (its log lines say "Backup Server").
	Backup bool
	// Dial is the server's address, "host:port" or "unix/<path>".
	Dial string
	// Check are the server's check settings.
	Check ServerConfig
	// Config is the backend's check configuration; nil means the default
	// TCP check.
	Config *Config

	// Initial, when set, is the status of a checker of the same server in
	// an earlier configuration: the new checker continues from its state
	// (scaled to the new rise and fall) and counters instead of starting
	// as HAProxy does at start-up.
	Initial *Status
	// FirstDelay is the wait before the first check. HAProxy spreads the
	// first checks of a backend's servers over the interval.
	FirstDelay time.Duration
	// OnEvent receives the outcome of every check, on the checker's
	// goroutine. It must not call Stop.
	OnEvent func(Event)
	// Paused, when set and true, skips checks, as HAProxy does for a
	// server in maintenance; the schedule continues at the interval.
	Paused func() bool
}

// Checker checks one server on its own goroutine, from Start until Stop.
type Checker struct {
	opts Options
	p    params
	pr   *prober

	mu        sync.Mutex
	status    Status
	downSince time.Time

	// wake asks the loop to look at the server now (see Wake).
	wake chan struct{}
	// maint is set by SetPaused while the server is in maintenance;
	// resumeNext asks the loop to reset the state at its next turn.
	maint      atomic.Bool
	resumeNext atomic.Bool
	// wasPaused is the loop's memory of a pause it saw; sawPause
	// publishes it, so that SetPaused(false) wakes a loop that found the
	// server in maintenance through Options.Paused.
	wasPaused bool
	sawPause  atomic.Bool
	// disabled is set by SetEnabled(false): no check runs.
	disabled atomic.Bool

	startOnce sync.Once
	stopOnce  sync.Once
	cancel    context.CancelFunc
	ctx       context.Context
	done      chan struct{}
}

// New prepares a checker; Start runs it.
func New(opts Options) (*Checker, error) {
	if err := opts.Check.Validate(); err != nil {
		return nil, fmt.Errorf("server %s/%s: %v", opts.Backend, opts.Server, err)
	}
	c, err := compile(opts.Config)
	if err != nil {
		return nil, fmt.Errorf("backend %s: %v", opts.Backend, err)
	}
	pr, err := newProber(opts.Dial, opts.Check, c)
	if err != nil {
		return nil, fmt.Errorf("server %s/%s: %v", opts.Backend, opts.Server, err)
	}
	ch := &Checker{opts: opts, p: opts.Check.params(), pr: pr, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	ch.ctx, ch.cancel = context.WithCancel(context.Background())
	// A server starting in maintenance resumes like one put there later.
	ch.wasPaused = opts.Check.StartDown && opts.Initial == nil
	now := time.Now()
	if init := opts.Initial; init != nil {
		ch.status = *init
		ch.status.State = carryState(init.State, ch.p)
		ch.status.InProgress = false
		if !ch.status.Up {
			// Downtime keeps counting from now on.
			ch.downSince = now
		}
	} else {
		ch.status = Status{
			State:      initialState(ch.p, opts.Check.StartDown),
			Last:       Result{Code: Initializing},
			LastChange: now,
		}
		if opts.Check.StartDown {
			ch.downSince = now
		}
	}
	return ch, nil
}

// carryState maps a health state onto new rise and fall values, keeping
// its meaning: fully up, going down, going up or fully down.
func carryState(old State, p params) State {
	s := State{Rise: p.rise, Fall: p.fall, Up: old.Up, Stopping: old.Stopping}
	top := p.rise + p.fall - 1
	switch {
	case old.Up && old.FullyUp():
		s.Health = top
	case old.Up:
		// Keep how many failures remain before DOWN, within the new range.
		left := old.Health - old.Rise + 1
		s.Health = min(max(p.rise+left-1, p.rise), top)
	default:
		s.Health = min(old.Health, p.rise-1)
	}
	return s
}

// Start begins checking. It may be called once.
func (c *Checker) Start() {
	c.startOnce.Do(func() { go c.loop() })
}

// Stop ends checking and waits until the check in progress, if any, has
// been abandoned. It may be called more than once, and without Start.
func (c *Checker) Stop() {
	c.stopOnce.Do(func() {
		c.cancel()
		started := true
		c.startOnce.Do(func() { started = false })
		if started {
			<-c.done
		}
	})
}

// Status returns a snapshot of the checks' state and counters.
func (c *Checker) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.status
	st.Disabled = c.disabled.Load()
	if !st.Up && !c.downSince.IsZero() {
		st.Downtime += time.Since(c.downSince)
	}
	return st
}

// Params returns the effective interval, fastinter, downinter, rise and
// fall.
func (c *Checker) Params() (inter, fastInter, downInter time.Duration, rise, fall int) {
	return c.p.inter, c.p.fastInter, c.p.downInter, c.p.rise, c.p.fall
}

func (c *Checker) loop() {
	defer close(c.done)
	timer := time.NewTimer(c.opts.FirstDelay)
	defer timer.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-timer.C:
		case <-c.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
		if c.maint.Load() || (c.opts.Paused != nil && c.opts.Paused()) {
			c.wasPaused = true
			c.sawPause.Store(true)
			timer.Reset(c.p.inter)
			continue
		}
		if resume := c.resumeNext.Swap(false); resume || c.wasPaused {
			c.wasPaused = false
			c.sawPause.Store(false)
			// Leaving maintenance: HAProxy restarts the server UP with
			// health = rise and checks it at once.
			if ev := c.resume(); c.opts.OnEvent != nil {
				c.opts.OnEvent(ev)
			}
		}
		if c.disabled.Load() {
			// Checks turned off at run time leave the state alone.
			timer.Reset(c.p.inter)
			continue
		}
		c.mu.Lock()
		c.status.InProgress = true
		running := c.status.Up
		c.mu.Unlock()

		r := c.pr.run(c.ctx, running)
		if c.ctx.Err() != nil {
			return
		}
		ev := c.record(r)
		if c.opts.OnEvent != nil {
			c.opts.OnEvent(ev)
		}
		timer.Reset(c.interval())
	}
}

// Wake makes the checker look at the server now rather than at its next
// scheduled check: call it when the server leaves maintenance, so that it
// is checked at once as in HAProxy. It does not block.
func (c *Checker) Wake() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// SetPaused tells the checker that the server entered (true) or left
// (false) maintenance. Leaving it resets the health to rise, UP, and
// checks the server at once, even if the checker never saw the pause
// through Options.Paused. It does not block.
func (c *Checker) SetPaused(paused bool) {
	if paused {
		c.maint.Store(true)
		return
	}
	if c.maint.Swap(false) {
		c.resumeNext.Store(true)
		c.Wake()
	} else if c.sawPause.Load() {
		// The loop saw the maintenance through Options.Paused and now
		// sleeps for an interval: wake it to resume at once.
		c.Wake()
	}
}

// Force sets the health as an agent-check answer does: up makes the
// server fully up, down takes it to 0, whatever the counter was. The
// event carries r as its result and the transition, if any; the last
// check result shown by Status is left alone.
func (c *Checker) Force(up bool, r Result) Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	st := &c.status
	tr := NoChange
	if up {
		st.Health = st.Rise + st.Fall - 1
		if !st.Up || st.Stopping {
			tr = WentUp
			c.endDowntime(now)
			st.Up, st.Stopping = true, false
		}
	} else {
		st.Health = 0
		if st.Up {
			tr = WentDown
			st.Up, st.Stopping = false, false
			st.DownTransitions++
			c.downSince = now
		}
	}
	if tr != NoChange {
		st.LastChange = now
	}
	return c.event(r, tr)
}

// SetEnabled turns the checks on or off, as HAProxy's "enable health" and
// "disable health": a disabled checker runs no check and leaves the
// server's state and health counter where they are; enabling it again
// resumes checking at the next interval.
func (c *Checker) SetEnabled(on bool) { c.disabled.Store(!on) }

// Enabled reports whether the checks run (see SetEnabled).
func (c *Checker) Enabled() bool { return !c.disabled.Load() }

// ForceStopping puts the server in HAProxy's NOLB state with its health
// counter at the top, as "set server <b>/<s> health stopping" does: the
// next passing check brings the server back into load balancing, failing
// ones take it down.
func (c *Checker) ForceStopping(r Result) Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	st := &c.status
	tr := NoChange
	st.Health = st.Rise + st.Fall - 1
	if !st.Up || !st.Stopping {
		tr = WentStopping
		c.endDowntime(now)
		st.Up, st.Stopping = true, true
		st.LastChange = now
	}
	return c.event(r, tr)
}

// resume resets the state when the server leaves maintenance.
func (c *Checker) resume() Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	st := &c.status
	c.endDowntime(now)
	st.State = initialState(c.p, false)
	st.LastChange = now
	e := c.event(st.Last, NoChange)
	e.Resumed = true
	return e
}

// record applies a result to the state and returns the event.
func (c *Checker) record(r Result) Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	st := &c.status
	st.InProgress = false
	st.Last = r
	wasUp := st.Up
	moved, failed, tr := st.State.apply(r)
	if failed {
		st.FailedChecks++
	}
	if tr != NoChange {
		st.LastChange = now
	}
	switch {
	case tr == WentDown:
		st.DownTransitions++
		c.downSince = now
	case !wasUp && st.Up:
		st.Downtime += now.Sub(c.downSince)
		c.downSince = time.Time{}
	}
	e := c.event(r, tr)
	e.Moved = moved
	return e
}

// event is the event of result r and transition tr for the server in its
// current state; the caller holds c.mu.
func (c *Checker) event(r Result, tr Transition) Event {
	return Event{
		Backend:         c.opts.Backend,
		Server:          c.opts.Server,
		Backup:          c.opts.Backup,
		Result:          r,
		State:           c.status.State,
		Transition:      tr,
		LogHealthChecks: c.pr.c.cfg.LogHealthChecks,
	}
}

// endDowntime adds the time the server has been down, if it is, to its
// downtime, as it comes back; the caller holds c.mu.
func (c *Checker) endDowntime(now time.Time) {
	if !c.status.Up && !c.downSince.IsZero() {
		c.status.Downtime += now.Sub(c.downSince)
		c.downSince = time.Time{}
	}
}

// interval chooses the wait before the next check as HAProxy does:
// inter when fully up, downinter when fully down, fastinter in between.
func (c *Checker) interval() time.Duration {
	c.mu.Lock()
	st := c.status.State
	c.mu.Unlock()
	switch {
	case st.FullyUp():
		return c.p.inter
	case !st.Up && st.Health == 0:
		return c.p.downInter
	}
	return c.p.fastInter
}

// Validate reports whether a checker could be built for a server at dial
// with the given settings, without starting anything.
func Validate(dial string, sc ServerConfig, cfg *Config) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	c, err := compile(cfg)
	if err != nil {
		return err
	}
	_, err = newProber(dial, sc, c)
	return err
}
