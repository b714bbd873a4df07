package caddyfile

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
)

// unnamedBackend names a backend in messages when the block gives it no
// name.
const unnamedBackend = "unnamed"

// blockSyntax describes a Caddyfile block written in HAProxy's backend
// syntax: which keywords it takes, and where the others belong.
type blockSyntax struct {
	// directive names the block in messages, e.g. "lb_policy haproxy".
	directive string
	// kind is the section the parser reads the block as; mode the mode
	// the section is in.
	kind, mode string
	// keywords, options and timeouts are those the block takes ("option"
	// and "timeout" among keywords admit the listed ones).
	keywords, options, timeouts []string
	// elsewhere says where the settings of the other known keywords go.
	elsewhere map[string]string
}

// read reads "<directive> [<backend-name>] { … }" with the adapter's
// parser: the block's lines become a section of kind s.kind with the
// Caddyfile's file:line. named reports whether the block was given a name.
func (s *blockSyntax) read(d *caddyfile.Dispenser) (cfg *config.Config, p *config.Proxy, named bool, err error) {
	d.Next() // the module's name
	head := lex.Pos{File: d.File(), Line: d.Line()}
	// An unnamed backend is private to its handler; the parser needs a
	// name all the same.
	sec := &lex.Section{Pos: head, Kind: s.kind, Name: unnamedBackend}
	named = d.NextArg()
	if named {
		sec.Name = d.Val()
	}
	if d.NextArg() {
		return nil, nil, false, d.ArgErr()
	}
	// HAProxy's proxies default to mode tcp.
	sec.Statements = append(sec.Statements, lex.NewStatement(head, []string{"mode", s.mode}))
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if d.Nesting() != nesting+1 || d.Val() == "{" {
			return nil, nil, false, d.Errf("%s: HAProxy's backend syntax has no nested blocks", s.directive)
		}
		pos := lex.Pos{File: d.File(), Line: d.Line()}
		words := append([]string{d.Val()}, d.RemainingArgs()...)
		st := lex.NewStatement(pos, words)
		if err := s.check(st); err != nil {
			return nil, nil, false, err
		}
		sec.Statements = append(sec.Statements, st)
	}

	cfg, diags := config.Build(&lex.File{Sections: []*lex.Section{sec}})
	if err := s.report(diags); err != nil {
		return nil, nil, false, err
	}
	p = cfg.Proxy(sec.Name)
	if p == nil {
		return nil, nil, false, fmt.Errorf("%s: %s: the block was not read", head, s.directive)
	}
	if len(p.Servers) == 0 {
		return nil, nil, false, fmt.Errorf("%s: %s: the block names no server", head, s.directive)
	}
	return cfg, p, named, nil
}

// check refuses a line whose keyword the block does not take, naming where
// its setting belongs when it has a place in Caddy.
func (s *blockSyntax) check(st lex.Statement) error {
	kw := st.Keyword()
	name := kw
	var allowed bool
	switch kw {
	case "option", "timeout":
		if len(st.Words) < 2 {
			allowed = true // the parser explains what is missing
			break
		}
		name = kw + " " + st.Words[1]
		list := s.options
		if kw == "timeout" {
			list = s.timeouts
		}
		allowed = slices.Contains(list, st.Words[1])
	case "mode":
		if len(st.Words) != 2 || st.Words[1] != s.mode {
			return fmt.Errorf("%s: %s: %s: the block is in mode %s", st.Pos, s.directive, strings.Join(st.Words, " "), s.mode)
		}
		allowed = true
	default:
		allowed = slices.Contains(s.keywords, kw)
	}
	if allowed {
		return nil
	}
	if hint, ok := s.elsewhere[name]; ok {
		return fmt.Errorf("%s: %s: %q is not supported here: %s", st.Pos, s.directive, name, hint)
	}
	return fmt.Errorf("%s: %s: unknown or unsupported keyword %q (the block takes %s, timeout %s, and option %s)",
		st.Pos, s.directive, name, strings.Join(s.keywords, ", "), strings.Join(s.timeouts, "|"), strings.Join(s.options, "|"))
}

// report logs the warnings among diags, with their file:line, and returns
// the errors joined into one.
func (s *blockSyntax) report(diags []config.Diagnostic) error {
	var errs []error
	for _, d := range diags {
		msg := d.Pos.String() + ": " + s.directive + ": " + strings.TrimPrefix(d.Error(), d.Pos.String()+": ")
		if d.Severity == config.Error {
			errs = append(errs, errors.New(msg))
			continue
		}
		caddy.Log().Named("caddyfile").Warn(msg)
	}
	return errors.Join(errs...)
}
