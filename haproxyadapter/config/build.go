package config

import (
	"errors"
	"fmt"
	"sort"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
)

// Load reads a configuration with lex.Parse and interprets it with Build. A
// syntax error comes back as one Diagnostic with Severity Error (and a nil
// Config).
func Load(filename string, data []byte, env func(string) (string, bool)) (*Config, []Diagnostic) {
	f, err := lex.Parse(filename, data, env)
	if err != nil {
		d := Diagnostic{Severity: Error, Pos: Pos{File: filename}, Message: err.Error()}
		var le *lex.Error
		if errors.As(err, &le) {
			d.Pos, d.Message = le.Pos, le.Msg
		}
		return nil, []Diagnostic{d}
	}
	return Build(f)
}

// Build interprets the sections into a Config. Diagnostics holds every
// warning and error, in file order; the config is usable only if none has
// Severity Error.
func Build(f *lex.File) (*Config, []Diagnostic) {
	b := &builder{
		cfg:           &Config{HTTPErrors: map[string]*HTTPErrors{}},
		namedDefaults: map[string][]*Proxy{},
		proxyNames:    map[string][]*Proxy{},
		fileOrder:     map[string]int{},
	}
	if f != nil {
		for _, s := range f.Sections {
			b.noteFile(s.Pos.File)
			for _, st := range s.Statements {
				b.noteFile(st.Pos.File)
			}
			b.section(s)
		}
		// ".warning" and ".notice" directives are for the operator.
		for _, m := range f.Messages {
			if m.Level == lex.LevelWarning || m.Level == lex.LevelNotice {
				b.noteFile(m.Pos.File)
				b.warnf(m.Pos, "."+string(m.Level), "%s", m.Text)
			}
		}
	}
	b.finish()
	// Diagnostics are produced section by section and a few after the whole
	// file is read; sort them back into file order.
	sort.SliceStable(b.diags, func(i, j int) bool {
		pi, pj := b.diags[i].Pos, b.diags[j].Pos
		if pi.File != pj.File {
			return b.fileOrder[pi.File] < b.fileOrder[pj.File]
		}
		return pi.Line < pj.Line
	})
	return b.cfg, b.diags
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(diags []Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// builder carries the state of one Build.
type builder struct {
	cfg   *Config
	diags []Diagnostic

	// lastDefaults is the most recent defaults section (named or not): the
	// one a proxy without "from" inherits.
	lastDefaults *Proxy
	// namedDefaults lists the defaults sections of each name; a name may
	// be declared twice but not referenced then.
	namedDefaults map[string][]*Proxy
	// defaultsRules tells which defaults sections carry http/tcp rules
	// (a listen may not inherit from those).
	defaultsRules map[*Proxy]bool
	// rulesDefaultsUser remembers whether frontends or backends use a
	// defaults section with rules (both may not).
	rulesDefaultsUser map[*Proxy]ProxyKind
	proxyNames        map[string][]*Proxy
	globalSeen        bool

	fileOrder map[string]int
}

func (b *builder) noteFile(name string) {
	if _, ok := b.fileOrder[name]; !ok {
		b.fileOrder[name] = len(b.fileOrder)
	}
}

func (b *builder) errorf(pos Pos, keyword, format string, args ...any) {
	b.diags = append(b.diags, Diagnostic{Severity: Error, Pos: pos, Keyword: keyword, Message: fmt.Sprintf(format, args...)})
}

func (b *builder) warnf(pos Pos, keyword, format string, args ...any) {
	b.diags = append(b.diags, Diagnostic{Severity: Warning, Pos: pos, Keyword: keyword, Message: fmt.Sprintf(format, args...)})
}

// section dispatches one section by kind.
func (b *builder) section(s *lex.Section) {
	switch s.Kind {
	case "global":
		b.global(s)
	case "defaults", "frontend", "backend", "listen":
		b.proxySection(s)
	case "userlist":
		b.userlist(s)
	case "http-errors":
		b.httpErrors(s)
	default:
		b.otherSection(s)
	}
}

// finish runs the checks that need the whole file: backend references.
func (b *builder) finish() {
	for _, p := range b.cfg.Proxies {
		if p.DefaultBackend != "" {
			b.checkBackendRef(p, p.DefaultBackendPos, "default_backend", p.DefaultBackend)
		}
		for _, ub := range p.UseBackends {
			b.checkBackendRef(p, ub.Pos, "use_backend", ub.Backend)
		}
	}
}

func (b *builder) checkBackendRef(p *Proxy, pos Pos, keyword, name string) {
	if isDynamicName(name) {
		return // "%[expr]" is resolved per request
	}
	target := b.cfg.Backend(name)
	switch {
	case target == nil && b.cfg.Proxy(name) != nil:
		b.errorf(pos, keyword, "%s '%s' refers to '%s', which is a frontend (it has no servers)", p.Kind, p.Name, name)
	case target == nil:
		b.errorf(pos, keyword, "%s '%s' refers to unknown backend '%s'", p.Kind, p.Name, name)
	case target.Mode == "http" && p.Mode != "http" && p.Mode != "tcp":
		// tcp → http is an upgrade HAProxy allows; anything else mismatches.
		b.errorf(pos, keyword, "%s '%s' (mode %s) cannot use backend '%s' (mode %s)", p.Kind, p.Name, p.Mode, name, target.Mode)
	case target.Mode == "tcp" && p.Mode == "http":
		b.errorf(pos, keyword, "%s '%s' is in mode http but backend '%s' is in mode tcp", p.Kind, p.Name, name)
	}
}

func isDynamicName(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == '[' {
			return true
		}
	}
	return false
}
