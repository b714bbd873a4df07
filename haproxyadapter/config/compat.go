package config

import (
	"fmt"
	"strings"
)

// CompatibilityMarkdown renders the keyword table as the Markdown document
// docs/compatibility.md: what happens to every HAProxy 2.6 keyword.
func CompatibilityMarkdown() string {
	var sb strings.Builder
	counts := map[Status]int{}
	for _, k := range kwTable {
		counts[k.Status]++
	}
	counts[ConditionKeyword.Status]++

	sb.WriteString(`# HAProxy keyword compatibility

<!-- Generated from haproxyadapter/config/keywords*.go by
     go test ./haproxyadapter/config -run TestCompatibilityDoc -update
     Do not edit by hand. -->

The haproxy adapter reads a HAProxy 2.6 configuration and gives every keyword
one of three statuses:

- **translated**: the keyword is understood and carried into the Caddy
  configuration.
- **ignored**: the keyword is accepted with a warning naming file:line. It has
  no effect in Caddy, and dropping it does not change who may access what
  (process tuning, logging, TLS cipher defaults …).
- **refused**: the adapter stops with an error naming file:line, because
  dropping the keyword would change who may access what or silently break the
  service. The message says what to do instead.

"planned" marks keywords that the configuration model already reads but whose
translation is still to come: their status is expected to change. "legacy"
marks keywords removed from HAProxy before 2.6 that the adapter still reads to
ease migrations.

`)
	fmt.Fprintf(&sb, "The table holds %d entries: %d translated, %d ignored, %d refused.\n\n",
		len(kwTable)+1, counts[Translated], counts[Ignored], counts[Refused])

	isRuleAction := func(k *Keyword) bool {
		for _, d := range []string{"http-request ", "http-response ", "http-after-response ", "stats http-request ",
			"tcp-request connection ", "tcp-request session ", "tcp-request content ", "tcp-response content "} {
			if strings.HasPrefix(k.Name, d) {
				return true
			}
		}
		return false
	}
	proxyGroup := func(prefix string) func(*Keyword) bool {
		return func(k *Keyword) bool {
			return k.Sections&InProxies != 0 && strings.HasPrefix(k.Name, prefix) && !isRuleAction(k)
		}
	}

	plainTable(&sb, "Global section", "global", func(k *Keyword) bool { return k.Sections&InGlobal != 0 }, false)
	proxyTable(&sb, "Proxy sections", func(k *Keyword) bool {
		if k.Sections&InProxies == 0 || isRuleAction(k) {
			return false
		}
		for _, p := range []string{"option ", "timeout ", "stats "} {
			if strings.HasPrefix(k.Name, p) {
				return false
			}
		}
		return true
	}, []*Keyword{ConditionKeyword})
	proxyTable(&sb, "Options", proxyGroup("option "), nil)
	proxyTable(&sb, "Timeouts", proxyGroup("timeout "), nil)
	proxyTable(&sb, "Stats", proxyGroup("stats "), nil)
	plainTable(&sb, "Server and default-server parameters", "param", func(k *Keyword) bool { return k.Sections&InServer != 0 }, false)
	plainTable(&sb, "Bind parameters", "param", func(k *Keyword) bool { return k.Sections&InBind != 0 }, false)
	plainTable(&sb, "Rule actions (http-request, http-response, http-after-response, tcp-request, tcp-response)", "action", isRuleAction, false)
	plainTable(&sb, "Other sections", "other", func(k *Keyword) bool {
		return k.Sections&^(InGlobal|InProxies|InServer|InBind) != 0
	}, true)
	return sb.String()
}

// statusCell renders a keyword's status for the tables.
func statusCell(k *Keyword) string {
	s := k.Status.String()
	if k.Later {
		s += ", planned"
	}
	return s
}

func nameCell(k *Keyword) string {
	n := "`" + k.Name + "`"
	if k.Negatable {
		n += " (`no` allowed)"
	}
	if k.Legacy {
		n += " (legacy)"
	}
	return n
}

func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// section writes a keyword | status | note table (with a leading section
// column when withSection is set).
func plainTable(sb *strings.Builder, title, kind string, keep func(*Keyword) bool, withSection bool) {
	fmt.Fprintf(sb, "## %s\n\n", title)
	switch {
	case withSection:
		sb.WriteString("| section | keyword | status | note |\n|---|---|---|---|\n")
	case kind == "param":
		sb.WriteString("| parameter | arguments | status | note |\n|---|---|---|---|\n")
	default:
		sb.WriteString("| keyword | status | note |\n|---|---|---|\n")
	}
	others := []string{"userlist", "peers", "resolvers", "mailers", "cache", "program", "http-errors", "ring", "log-forward", "fcgi-app", "namespace_list"}
	if withSection {
		for _, sec := range others {
			for _, k := range kwTable {
				if keep(k) && k.Sections&sectionScopes[sec] != 0 {
					fmt.Fprintf(sb, "| %s | %s | %s | %s |\n", sec, nameCell(k), statusCell(k), cell(k.Note))
				}
			}
		}
		sb.WriteString("\n")
		return
	}
	for _, k := range kwTable {
		if !keep(k) {
			continue
		}
		if kind == "param" {
			args := fmt.Sprint(k.Args)
			if k.Args < 0 {
				args = "several"
			}
			fmt.Fprintf(sb, "| %s | %s | %s | %s |\n", nameCell(k), args, statusCell(k), cell(k.Note))
			continue
		}
		fmt.Fprintf(sb, "| %s | %s | %s |\n", nameCell(k), statusCell(k), cell(k.Note))
	}
	sb.WriteString("\n")
}

// proxyTable writes the proxy keywords with their applicability columns.
func proxyTable(sb *strings.Builder, title string, keep func(*Keyword) bool, extra []*Keyword) {
	fmt.Fprintf(sb, "## %s\n\n", title)
	sb.WriteString("\"named\" means allowed only in a named defaults section.\n\n")
	sb.WriteString("| keyword | defaults | frontend | listen | backend | status | note |\n|---|---|---|---|---|---|---|\n")
	mark := func(k *Keyword, sc Scope) string {
		if k.Sections&sc == 0 {
			return "-"
		}
		if sc == InDefaults && k.NamedDefaultsOnly {
			return "named"
		}
		return "X"
	}
	row := func(k *Keyword) {
		fmt.Fprintf(sb, "| %s | %s | %s | %s | %s | %s | %s |\n", nameCell(k),
			mark(k, InDefaults), mark(k, InFrontend), mark(k, InListen), mark(k, InBackend),
			statusCell(k), cell(k.Note))
	}
	for _, k := range kwTable {
		if keep(k) {
			row(k)
		}
	}
	for _, k := range extra {
		row(k)
	}
	sb.WriteString("\n")
}
