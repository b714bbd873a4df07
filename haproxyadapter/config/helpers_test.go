package config

import (
	"strings"
	"testing"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
)

// load builds a configuration given as text (leading tabs of each line are
// fine: HAProxy ignores indentation). The file is named t.cfg.
func load(t *testing.T, src string) (*Config, []Diagnostic) {
	t.Helper()
	f, err := lex.Parse("t.cfg", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("lex.Parse: %v", err)
	}
	return Build(f)
}

// mustLoad builds a configuration that must have no error.
func mustLoad(t *testing.T, src string) *Config {
	t.Helper()
	cfg, diags := load(t, src)
	for _, d := range diags {
		if d.Severity == Error {
			t.Fatalf("unexpected error: %s", d.Error())
		}
	}
	return cfg
}

// errorsOf lists the errors' texts.
func errorsOf(diags []Diagnostic) []string {
	var out []string
	for _, d := range diags {
		if d.Severity == Error {
			out = append(out, d.Error())
		}
	}
	return out
}

// warningsOf lists the warnings' texts.
func warningsOf(diags []Diagnostic) []string {
	var out []string
	for _, d := range diags {
		if d.Severity == Warning {
			out = append(out, d.Error())
		}
	}
	return out
}

// hasDiag reports whether a diagnostic of that severity has exactly text.
func hasDiag(diags []Diagnostic, sev Severity, text string) bool {
	for _, d := range diags {
		if d.Severity == sev && d.Error() == text {
			return true
		}
	}
	return false
}

// proxy returns the named proxy or fails.
func proxy(t *testing.T, cfg *Config, name string) *Proxy {
	t.Helper()
	p := cfg.Proxy(name)
	if p == nil {
		t.Fatalf("no proxy %q", name)
	}
	return p
}

// condString renders a condition compactly: "if a !b || { path_beg -i /x }".
func condString(c *Condition) string {
	if c == nil {
		return ""
	}
	var sb strings.Builder
	if c.Unless {
		sb.WriteString("unless")
	} else {
		sb.WriteString("if")
	}
	for i, and := range c.Terms {
		if i > 0 {
			sb.WriteString(" ||")
		}
		for _, t := range and {
			sb.WriteString(" ")
			if t.Negate {
				sb.WriteString("!")
			}
			if t.Anonymous != nil {
				sb.WriteString("{ " + aclString(t.Anonymous) + " }")
			} else {
				sb.WriteString(t.Name)
			}
		}
	}
	return sb.String()
}

// aclString renders an ACL as "fetch flags… patterns…".
func aclString(a *ACL) string {
	parts := []string{a.Fetch}
	for _, f := range a.Flags {
		parts = append(parts, f...)
	}
	parts = append(parts, a.Patterns...)
	return strings.Join(parts, " ")
}
