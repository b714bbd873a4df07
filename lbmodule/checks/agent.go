package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/source"
)

// AgentConfig is a server's "agent-check": a TCP service, usually beside
// the server, that answers each connection with one line of words telling
// the load balancer the server's health, admin state, weight or maxconn.
type AgentConfig struct {
	// Port is the agent's port ("agent-port"); required.
	Port int `json:"port"`
	// Addr is the agent's address ("agent-addr"); default the server's
	// host.
	Addr string `json:"addr,omitempty"`
	// Inter is the interval between two queries ("agent-inter"); default
	// 2s. A query must be answered within it.
	Inter Duration `json:"inter,omitempty"`
	// Send is written to the agent once connected ("agent-send").
	Send string `json:"send,omitempty"`
	// Source is the local address queries connect from, "ip" or
	// "ip:port" (the server's "source"); empty lets the system pick.
	Source string `json:"source,omitempty"`
}

// Validate reports a missing port or a bad interval.
func (a AgentConfig) Validate() error {
	if a.Port <= 0 || a.Port > 65535 {
		return fmt.Errorf("agent port %d out of range 1..65535", a.Port)
	}
	if a.Inter < 0 {
		return fmt.Errorf("negative agent interval")
	}
	_, err := source.Addr(a.Source)
	return err
}

// AgentReply is what one agent answer says, split as HAProxy 2.6 reads
// it: a line of words separated by spaces, tabs or commas, where the last
// word of each kind wins, and a description after a word-leading '#'.
type AgentReply struct {
	// Health is "up", "down", "stopped" or "fail"; "" when absent.
	Health string
	// Admin is "ready", "drain" or "maint"; "" when absent.
	Admin string
	// Weight is a word starting with a digit and holding a '%' ("75%");
	// "" when absent. ParseWeight reads it.
	Weight string
	// MaxConn is the value after "maxconn:"; HasMaxConn tells it was
	// given.
	MaxConn    string
	HasMaxConn bool
	// Description is the text after '#'.
	Description string
	// Unknown is the first word the agent should not have sent.
	Unknown string
}

// ParseAgentReply reads the first line of an agent's answer. It returns
// false when the answer holds no complete line (no CR or LF), which
// HAProxy ignores.
func ParseAgentReply(data []byte) (AgentReply, bool) {
	end := bytes.IndexAny(data, "\r\n")
	if end < 0 {
		return AgentReply{}, false
	}
	line := string(data[:end])
	var r AgentReply
	for i := 0; i < len(line); {
		c := line[i]
		if c == ' ' || c == '\t' || c == ',' {
			i++
			continue
		}
		if c == '#' {
			r.Description = strings.TrimLeft(line[i+1:], " \t")
			break
		}
		j := i + 1
		for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != ',' {
			j++
		}
		word := line[i:j]
		i = j
		switch lw := strings.ToLower(word); {
		case lw == "up" || lw == "down" || lw == "stopped" || lw == "fail":
			r.Health = lw
		case lw == "ready" || lw == "drain" || lw == "maint":
			r.Admin = lw
		case word[0] >= '0' && word[0] <= '9' && strings.Contains(word, "%"):
			r.Weight = word
		case strings.HasPrefix(lw, "maxconn:"):
			r.MaxConn, r.HasMaxConn = word[len("maxconn:"):], true
		default:
			if r.Unknown == "" {
				r.Unknown = word
			}
		}
	}
	r.Description = strings.TrimLeft(r.Description, " \n")
	return r, true
}

// ParseWeight reads a weight word against the configured weight: "N%" is
// N% of it, capped at 256; a plain number in 0..256 is absolute. A sign is
// read as strtol does, so "-1" is an out-of-range weight, not garbage. The
// error is HAProxy's message for a bad word.
func ParseWeight(word string, configured int) (int, error) {
	sign := 0
	if word != "" && (word[0] == '-' || word[0] == '+') {
		sign = 1
	}
	digits := sign
	for digits < len(word) && word[digits] >= '0' && word[digits] <= '9' {
		digits++
	}
	if digits == sign {
		return 0, errors.New("Empty weight string empty or preceded by garbage")
	}
	n, err := strconv.Atoi(word[:digits])
	if err != nil {
		n = 1 << 30
		if word[0] == '-' {
			n = -n
		}
	}
	switch rest := word[digits:]; {
	case rest == "%":
		if n < 0 {
			return 0, errors.New("Relative weight must be positive.\n")
		}
		n = min(n, 25600)
		return min(configured*n/100, 256), nil
	case n < 0 || n > 256:
		return 0, errors.New("Absolute weight can only be between 0 and 256 inclusive.\n")
	case rest != "":
		return 0, errors.New("Trailing garbage in weight string")
	}
	return n, nil
}

// ParseMaxConn reads the value of "maxconn:"; the error is HAProxy's.
func ParseMaxConn(v string) (int, error) {
	if v == "" {
		return 0, errors.New("Require <maxconn>.\n")
	}
	digits := 0
	for digits < len(v) && v[digits] >= '0' && v[digits] <= '9' {
		digits++
	}
	if digits == 0 {
		return 0, errors.New("maxconn string empty or preceded by garbage")
	}
	if digits != len(v) {
		return 0, errors.New("Trailing garbage in maxconn string")
	}
	n, err := strconv.Atoi(v)
	if err != nil || n > 1<<31-1 {
		return 0, errors.New("maxconn string empty or preceded by garbage")
	}
	return n, nil
}

// AgentResult is the outcome of one agent query: either a reply, or a
// failure to reach the agent or read a complete line, which leaves the
// server's state alone.
type AgentResult struct {
	// Reply is the parsed answer; valid when OK.
	Reply AgentReply
	OK    bool
	// Failure describes a query that got no complete line: L4CON or
	// L4TOUT with HAProxy's detail, or CHECKED for an incomplete line.
	Failure Result
	// Duration is how long the query took.
	Duration time.Duration
}

// AgentOptions describe the agent of one server.
type AgentOptions struct {
	// Backend and Server name the server, for errors.
	Backend, Server string
	// Dial is the server's address, whose host the agent shares unless
	// Config.Addr is set.
	Dial string
	// Config is the agent's settings.
	Config AgentConfig
	// OnResult receives each query's outcome, on the agent's goroutine.
	OnResult func(AgentResult)
	// FirstDelay is the wait before the first query.
	FirstDelay time.Duration
}

// Agent queries a server's agent every interval, from Start until Stop.
type Agent struct {
	opts   AgentOptions
	addr   string
	inter  time.Duration
	cancel context.CancelFunc
	ctx    context.Context
	done   chan struct{}
	start  sync.Once
	stop   sync.Once
	// disabled is set by SetEnabled(false): no query is sent.
	disabled atomic.Bool
}

// SetEnabled turns the agent queries on or off, as HAProxy's "enable
// agent" and "disable agent"; what earlier answers set stays.
func (a *Agent) SetEnabled(on bool) { a.disabled.Store(!on) }

// Enabled reports whether the agent is queried (see SetEnabled).
func (a *Agent) Enabled() bool { return !a.disabled.Load() }

// NewAgent prepares an agent; Start runs it.
func NewAgent(opts AgentOptions) (*Agent, error) {
	if err := opts.Config.Validate(); err != nil {
		return nil, fmt.Errorf("server %s/%s: %v", opts.Backend, opts.Server, err)
	}
	host := opts.Config.Addr
	if host == "" {
		h, _, err := net.SplitHostPort(opts.Dial)
		if err != nil {
			return nil, fmt.Errorf("server %s/%s: agent-check needs a host:port server address or agent-addr: %v", opts.Backend, opts.Server, err)
		}
		host = h
	}
	a := &Agent{
		opts:  opts,
		addr:  net.JoinHostPort(host, strconv.Itoa(opts.Config.Port)),
		inter: time.Duration(opts.Config.Inter),
		done:  make(chan struct{}),
	}
	if a.inter <= 0 {
		a.inter = DefaultInter
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a, nil
}

// Start begins querying. It may be called once.
func (a *Agent) Start() {
	a.start.Do(func() { go a.loop() })
}

// Stop ends querying and waits for the query in progress to be abandoned.
func (a *Agent) Stop() {
	a.stop.Do(func() {
		a.cancel()
		started := true
		a.start.Do(func() { started = false })
		if started {
			<-a.done
		}
	})
}

func (a *Agent) loop() {
	defer close(a.done)
	timer := time.NewTimer(a.opts.FirstDelay)
	defer timer.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-timer.C:
		}
		if a.disabled.Load() {
			timer.Reset(a.inter)
			continue
		}
		r := a.query()
		if a.ctx.Err() != nil {
			return
		}
		if a.opts.OnResult != nil {
			a.opts.OnResult(r)
		}
		timer.Reset(a.inter)
	}
}

// query connects, sends, and reads until a line ends or the agent closes,
// all within the interval.
func (a *Agent) query() AgentResult {
	start := time.Now()
	ctx, cancel := context.WithTimeout(a.ctx, a.inter)
	defer cancel()
	d, _ := dialerFrom(a.opts.Config.Source) // checked by Validate
	conn, err := d.DialContext(ctx, "tcp", a.addr)
	if err != nil {
		return AgentResult{Failure: connFailure(err), Duration: time.Since(start)}
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(a.ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if a.opts.Config.Send != "" {
		if _, err := io.WriteString(conn, a.opts.Config.Send); err != nil {
			return AgentResult{Failure: connFailure(err), Duration: time.Since(start)}
		}
	}
	var buf []byte
	chunk := make([]byte, 1024)
	for len(buf) < 16384 {
		n, err := conn.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if bytes.ContainsAny(buf, "\r\n") {
			break
		}
		if err != nil {
			if isTimeout(err) {
				return AgentResult{Failure: Result{Code: L4TOUT}, Duration: time.Since(start)}
			}
			break
		}
	}
	reply, ok := ParseAgentReply(buf)
	if !ok {
		return AgentResult{Failure: Result{Code: Checked, Info: "Ignoring incomplete line from agent"}, Duration: time.Since(start)}
	}
	return AgentResult{Reply: reply, OK: true, Duration: time.Since(start)}
}

// connFailure is the status of a failed connection to the agent.
func connFailure(err error) Result {
	if isTimeout(err) {
		return Result{Code: L4TOUT}
	}
	return Result{Code: L4CON, Info: errnoText(err)}
}
