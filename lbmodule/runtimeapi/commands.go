package runtimeapi

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
)

// Level is a session's access level, as HAProxy's "level" bind option:
// user reads, operator also clears counters (not offered here), admin
// changes server state.
type Level int

// Access levels, lowest first.
const (
	LevelUser Level = iota
	LevelOperator
	LevelAdmin
)

// ParseLevel reads "user", "operator" or "admin".
func ParseLevel(s string) (Level, error) {
	switch s {
	case "user":
		return LevelUser, nil
	case "operator":
		return LevelOperator, nil
	case "admin":
		return LevelAdmin, nil
	}
	return 0, fmt.Errorf("unknown level %q (want user, operator or admin)", s)
}

// String returns the level as "show cli level" prints it.
func (l Level) String() string {
	switch l {
	case LevelUser:
		return "user"
	case LevelOperator:
		return "operator"
	case LevelAdmin:
		return "admin"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

const msgDenied = "Permission denied\n"

// command is one runtime API command.
type command struct {
	// words are the keywords that name the command.
	words []string
	// usage and summary are its line in "help", word for word HAProxy's.
	usage, summary string
	// level is the lowest level allowed to run it.
	level Level
	run   func(s *session, args []string, w *strings.Builder)
}

// commands in the order "help" lists them: alphabetical, then help, prompt
// and quit, as HAProxy does.
var commands []*command

func init() {
	commands = []*command{
		{[]string{"disable", "agent"}, "disable agent", "disable agent checks", LevelAdmin, serverCmd(disableAgent)},
		{[]string{"disable", "health"}, "disable health", "disable health checks", LevelAdmin, serverCmd(disableHealth)},
		{[]string{"disable", "server"}, "disable server (DEPRECATED)", "disable a server for maintenance (use 'set server' instead)", LevelAdmin, serverCmd(disableServer)},
		{[]string{"enable", "agent"}, "enable agent", "enable agent checks", LevelAdmin, serverCmd(enableAgent)},
		{[]string{"enable", "health"}, "enable health", "enable health checks", LevelAdmin, serverCmd(enableHealth)},
		{[]string{"enable", "server"}, "enable server  (DEPRECATED)", "enable a disabled server (use 'set server' instead)", LevelAdmin, serverCmd(enableServer)},
		{[]string{"get", "weight"}, "get weight <bk>/<srv>", "report a server's current weight", LevelUser, serverCmd(getWeight)},
		{[]string{"operator"}, "operator", "lower the level of the current CLI session to operator", LevelUser, lowerLevel(LevelOperator)},
		{[]string{"set", "maxconn", "server"}, "set maxconn server <bk>/<srv>", "change a server's maxconn setting", LevelAdmin, serverCmd(setMaxConn)},
		{[]string{"set", "server"}, "set server <bk>/<srv> [opts]", "change a server's state, weight, address or ssl", LevelAdmin, serverCmd(setServer)},
		{[]string{"set", "timeout"}, "set timeout [cli] <delay>", "change a timeout setting", LevelUser, setTimeout},
		{[]string{"set", "weight"}, "set weight <bk>/<srv>  (DEPRECATED)", "change a server's weight (use 'set server' instead)", LevelAdmin, serverCmd(setWeightCmd)},
		{[]string{"show", "backend"}, "show backend", "list backends in the current running config", LevelUser, func(_ *session, _ []string, w *strings.Builder) { showBackend(w) }},
		{[]string{"show", "cli", "level"}, "show cli level", "display the level of the current CLI session", LevelUser, func(s *session, _ []string, w *strings.Builder) { w.WriteString(s.level.String() + "\n") }},
		{[]string{"show", "info"}, "show info [desc|json|typed|float]*", "report information about the running process", LevelUser, showInfo},
		{[]string{"show", "servers", "state"}, "show servers state [<backend>]", "dump volatile server information (all or for a single backend)", LevelUser, func(_ *session, args []string, w *strings.Builder) { showServersState(w, args) }},
		{[]string{"show", "stat"}, "show stat [desc|json|no-maint|typed|up]*", "report counters for each proxy and server", LevelUser, showStat},
		{[]string{"user"}, "user", "lower the level of the current CLI session to user", LevelUser, lowerLevel(LevelUser)},
		{[]string{"help"}, "help [<command>]", "list matching or all commands", LevelUser, help},
		{[]string{"prompt"}, "prompt", "toggle interactive mode with prompt", LevelUser, func(s *session, _ []string, _ *strings.Builder) { s.interactive = !s.interactive }},
		{[]string{"quit"}, "quit", "disconnect", LevelUser, func(s *session, _ []string, _ *strings.Builder) { s.quit = true }},
	}
}

// lookup finds the command named by the first words of line and returns
// it with the remaining words.
func lookup(words []string) (*command, []string) {
	var best *command
	for _, c := range commands {
		if len(c.words) <= len(words) && slices.Equal(c.words, words[:len(c.words)]) &&
			(best == nil || len(c.words) > len(best.words)) {
			best = c
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, words[len(best.words):]
}

// writeHelp lists the commands whose words start with prefix, then help,
// prompt and quit, under header.
func writeHelp(w *strings.Builder, header string, prefix []string) {
	w.WriteString(header)
	w.WriteByte('\n')
	for _, c := range commands {
		n := min(len(prefix), len(c.words))
		if slices.Equal(c.words[:n], prefix[:n]) || c.words[0] == "help" || c.words[0] == "prompt" || c.words[0] == "quit" {
			fmt.Fprintf(w, "  %-40s: %s\n", c.usage, c.summary)
		}
	}
}

const helpHeader = "The following commands are valid at this level:"

func help(_ *session, args []string, w *strings.Builder) {
	writeHelp(w, helpHeader, args)
}

func lowerLevel(to Level) func(*session, []string, *strings.Builder) {
	return func(s *session, _ []string, w *strings.Builder) {
		if to > s.level {
			w.WriteString(msgDenied)
			return
		}
		s.level = to
	}
}

// setTimeout is "set timeout cli <delay>": the session's idle timeout.
func setTimeout(s *session, args []string, w *strings.Builder) {
	if len(args) == 0 || args[0] != "cli" {
		w.WriteString("'set timeout' only supports 'cli'.\n")
		return
	}
	if len(args) < 2 {
		w.WriteString("Expects an integer value.\n")
		return
	}
	d, err := parseDelay(args[1])
	if err != nil {
		w.WriteString("Invalid timeout value.\n")
		return
	}
	s.timeout = d
}

// parseDelay reads an HAProxy time: a number with an optional unit (us,
// ms, s, m, h, d), seconds by default.
func parseDelay(v string) (time.Duration, error) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("bad delay %q", v)
	}
	var n int64
	fmt.Sscan(v[:i], &n)
	units := map[string]time.Duration{"": time.Second, "us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	u, ok := units[v[i:]]
	if !ok {
		return 0, fmt.Errorf("bad unit in %q", v)
	}
	return time.Duration(n) * u, nil
}

// serverCmd wraps a command whose first argument is "<backend>/<server>".
func serverCmd(run func(b *lbmodule.Backend, s *lbmodule.Server, args []string, w *strings.Builder)) func(*session, []string, *strings.Builder) {
	return func(_ *session, args []string, w *strings.Builder) {
		arg := ""
		if len(args) > 0 {
			arg = args[0]
			args = args[1:]
		}
		b, s, msg := FindServer(arg)
		if msg != "" {
			w.WriteString(msg)
			return
		}
		run(b, s, args, w)
	}
}

func disableServer(b *lbmodule.Backend, s *lbmodule.Server, _ []string, _ *strings.Builder) {
	_ = b.SetAdminState(s.Name, lbmodule.AdminMaint)
}

func enableServer(b *lbmodule.Backend, s *lbmodule.Server, _ []string, _ *strings.Builder) {
	_ = b.SetAdminState(s.Name, lbmodule.AdminReady)
}

func disableHealth(b *lbmodule.Backend, s *lbmodule.Server, _ []string, _ *strings.Builder) {
	_ = b.SetHealthChecks(s.Name, false)
}

func enableHealth(b *lbmodule.Backend, s *lbmodule.Server, _ []string, w *strings.Builder) {
	if b.SetHealthChecks(s.Name, true) != nil {
		w.WriteString("Health check was not configured on this server, cannot enable.\n")
	}
}

func disableAgent(b *lbmodule.Backend, s *lbmodule.Server, _ []string, _ *strings.Builder) {
	_ = b.SetAgentCheck(s.Name, false)
}

func enableAgent(b *lbmodule.Backend, s *lbmodule.Server, _ []string, w *strings.Builder) {
	if b.SetAgentCheck(s.Name, true) != nil {
		w.WriteString("Agent was not configured on this server, cannot enable.\n")
	}
}

func getWeight(_ *lbmodule.Backend, s *lbmodule.Server, _ []string, w *strings.Builder) {
	fmt.Fprintf(w, "%d (initial %d)\n", s.Weight(), s.ConfigWeight)
}

func setWeightCmd(b *lbmodule.Backend, s *lbmodule.Server, args []string, w *strings.Builder) {
	if len(args) == 0 {
		w.WriteString("Require <weight> or <weight%>.\n")
		return
	}
	w.WriteString(SetWeight(b, s, args[0]))
}

// SetWeight applies a weight word ("N" or "N%" of the configured weight)
// as HAProxy's "set weight" does and returns HAProxy's message, "" when
// the weight was set.
func SetWeight(b *lbmodule.Backend, s *lbmodule.Server, word string) string {
	wt, err := checks.ParseWeight(word, s.ConfigWeight)
	if err == nil && b.StaticWeights() && wt != 0 && wt != s.ConfigWeight {
		return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
	}
	if err == nil {
		err = b.SetWeight(s.Name, wt)
	}
	if err != nil {
		// Some of HAProxy's messages end with a newline, some do not.
		return err.Error()
	}
	return ""
}

// setMaxConn is "set maxconn server <b>/<s> <n>": 0 is unlimited.
func setMaxConn(b *lbmodule.Backend, s *lbmodule.Server, args []string, w *strings.Builder) {
	v := ""
	if len(args) > 0 {
		v = args[0]
	}
	n, err := checks.ParseMaxConn(v)
	if err == nil {
		err = b.SetMaxConn(s.Name, n)
	}
	if err != nil {
		w.WriteString(err.Error())
	}
}

const setServerUsage = "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n"

// setServer is "set server <b>/<s> state|weight|health|agent …".
func setServer(b *lbmodule.Backend, s *lbmodule.Server, args []string, w *strings.Builder) {
	if len(args) == 0 {
		w.WriteString(setServerUsage)
		return
	}
	value := ""
	if len(args) > 1 {
		value = args[1]
	}
	switch args[0] {
	case "state":
		st, err := lbmodule.ParseAdminState(value)
		if err != nil || value != strings.ToLower(value) {
			w.WriteString("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n")
			return
		}
		_ = b.SetAdminState(s.Name, st)
	case "weight":
		setWeightCmd(b, s, args[1:], w)
	case "health":
		h, err := lbmodule.ParseHealth(value)
		if err != nil || value != strings.ToLower(value) {
			w.WriteString("'set server <srv> health' expects 'up', 'stopping', or 'down'.\n")
			return
		}
		_ = b.ForceHealth(s.Name, h)
	case "agent":
		if _, configured := b.AgentCheckEnabled(s.Name); !configured {
			w.WriteString("agent checks are not enabled on this server.\n")
			return
		}
		if value != "up" && value != "down" {
			w.WriteString("'set server <srv> agent' expects 'up' or 'down'.\n")
			return
		}
		_ = b.ForceAgentHealth(s.Name, value == "up")
	case "addr", "agent-addr", "agent-port", "agent-send", "check-addr", "check-port", "fqdn", "ssl":
		fmt.Fprintf(w, "'set server <srv> %s' is not supported by this runtime API.\n", args[0])
	default:
		w.WriteString(setServerUsage)
	}
}
