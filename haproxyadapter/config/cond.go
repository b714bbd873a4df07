package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
)

// PredefinedACLs are the ACL names HAProxy 2.6 defines itself.
var PredefinedACLs = []string{
	"FALSE", "HTTP", "HTTP_1.0", "HTTP_1.1", "HTTP_2.0", "HTTP_CONTENT", "HTTP_URL_ABS",
	"HTTP_URL_SLASH", "HTTP_URL_STAR", "LOCALHOST", "METH_CONNECT", "METH_DELETE", "METH_GET",
	"METH_HEAD", "METH_OPTIONS", "METH_POST", "METH_PUT", "METH_TRACE", "RDP_COOKIE",
	"REQ_CONTENT", "TRUE", "WAIT_END",
}

// MatchMethods are the values "-m" accepts.
var MatchMethods = []string{"found", "bool", "int", "ip", "bin", "len", "str", "sub", "reg", "beg", "end", "dir", "dom"}

// splitCondition cuts the words of a rule at the first "if" or "unless":
// the words before it and the condition words (starting with if/unless),
// nil when there is none.
func splitCondition(words []string) (args, cond []string) {
	for i, w := range words {
		if w == "if" || w == "unless" {
			return words[:i], words[i:]
		}
	}
	return words, nil
}

// condition parses "if|unless <terms>" (words[0] is if or unless). It
// resolves ACL names against the section's own acl lines so far and the
// predefined ACLs, as HAProxy does while it reads the file.
func (b *builder) condition(c *proxyCtx, st lex.Statement, keyword string, words []string) (*Condition, bool) {
	if len(words) == 0 || words[0] != "if" && words[0] != "unless" {
		b.errorf(st.Pos, keyword, "expected 'if' or 'unless' before the condition, found '%s'", strings.Join(words, " "))
		return nil, false
	}
	cond := &Condition{Pos: st.Pos, Unless: words[0] == "unless"}
	var and []CondTerm
	flush := func() {
		if len(and) > 0 {
			cond.Terms = append(cond.Terms, and)
			and = nil
		}
	}
	ws := words[1:]
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		// HAProxy compares "or" without regard to case.
		if strings.EqualFold(w, "or") || w == "||" {
			flush()
			continue
		}
		var t CondTerm
		// "!" may stand alone or prefix the name or the brace.
		for strings.HasPrefix(w, "!") {
			t.Negate = !t.Negate
			w = w[1:]
			if w == "" {
				i++
				if i >= len(ws) {
					// HAProxy accepts this; say it means nothing.
					b.warnf(st.Pos, keyword, "'!' at the end of the condition negates nothing and is ignored")
					flush()
					if len(cond.Terms) == 0 {
						b.warnf(st.Pos, keyword, "empty condition after '%s'", words[0])
					}
					return cond, true
				}
				w = ws[i]
			}
		}
		if w == "{" {
			end := -1
			for j := i + 1; j < len(ws); j++ {
				if ws[j] == "}" {
					end = j
					break
				}
			}
			if end < 0 {
				b.errorf(st.Pos, keyword, "missing closing '}' in condition")
				return nil, false
			}
			acl, ok := b.aclExpr(st, keyword, "", ws[i+1:end])
			if !ok {
				return nil, false
			}
			t.Anonymous = acl
			i = end
		} else {
			if w == "}" {
				b.errorf(st.Pos, keyword, "unexpected '}' in condition (no matching '{')")
				return nil, false
			}
			t.Name = w
			if !slices.Contains(PredefinedACLs, w) {
				for _, a := range c.ownACLs {
					if a.Name == w {
						t.Defs = append(t.Defs, a)
					}
				}
				if t.Defs == nil {
					b.errorf(st.Pos, keyword, "no such ACL: '%s'%s", w, didYouMean(suggest(w, aclNames(c)), '\''))
					return nil, false
				}
			}
		}
		and = append(and, t)
	}
	flush()
	if len(cond.Terms) == 0 {
		b.warnf(st.Pos, keyword, "empty condition after '%s'", words[0])
	}
	return cond, true
}

func aclNames(c *proxyCtx) []string {
	names := slices.Clone(PredefinedACLs)
	for _, a := range c.ownACLs {
		names = append(names, a.Name)
	}
	return names
}

// aclExpr parses "<fetch> [flags] [patterns]" into an ACL.
func (b *builder) aclExpr(st lex.Statement, keyword, name string, words []string) (*ACL, bool) {
	if len(words) == 0 {
		if name == "" {
			b.errorf(st.Pos, keyword, "missing fetch method in anonymous ACL '{ }'")
		} else {
			b.errorf(st.Pos, keyword, "missing fetch method in ACL '%s'", name)
		}
		return nil, false
	}
	acl := &ACL{Pos: st.Pos, Name: name, Fetch: words[0]}
	if err := checkSampleExpr(acl.Fetch); err != nil {
		b.errorf(st.Pos, keyword, "%v", err)
		return nil, false
	}
	i := 1
flags:
	for ; i < len(words); i++ {
		switch f := words[i]; f {
		case "-i", "-n", "-M":
			acl.Flags = append(acl.Flags, []string{f})
		case "--":
			acl.Flags = append(acl.Flags, []string{f})
			i++
			break flags
		case "-f", "-m", "-u":
			if i+1 >= len(words) {
				b.errorf(st.Pos, keyword, "flag '%s' needs an argument", f)
				return nil, false
			}
			arg := words[i+1]
			if f == "-m" && !slices.Contains(MatchMethods, arg) {
				b.errorf(st.Pos, keyword, "unknown matching method '%s'%s", arg, didYouMean(suggest(arg, MatchMethods), '\''))
				return nil, false
			}
			if f == "-u" {
				if _, err := parseInt(arg, 0, 1<<31-1); err != nil {
					b.errorf(st.Pos, keyword, "flag -u needs a numeric id: %v", err)
					return nil, false
				}
			}
			acl.Flags = append(acl.Flags, []string{f, arg})
			i++
		default:
			break flags
		}
	}
	acl.Patterns = slices.Clone(words[i:])
	return acl, true
}

// proxyACL models an "acl <name> <fetch> [flags] [patterns]" line.
func proxyACL(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "acl", 2, -1, "acl <name> <fetch> [flags] [patterns]") {
		return false
	}
	name := st.Words[1]
	if !validProxyName(name) {
		b.errorf(st.Pos, "acl", "invalid ACL name '%s': only letters, digits, '-', '_', '.' and ':' are allowed", name)
		return false
	}
	acl, ok := b.aclExpr(st, "acl", name, st.Words[2:])
	if !ok {
		return false
	}
	c.ownACLs = append(c.ownACLs, acl)
	c.p.ACLs = append(c.p.ACLs, acl)
	return true
}

// checkSampleExpr checks that "fetch[(args)][,conv[(args)]]…" names a known
// fetch and known converters, with balanced parentheses.
func checkSampleExpr(expr string) error {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(expr); i++ {
		switch expr[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return fmt.Errorf("unbalanced parentheses in fetch '%s'", expr)
			}
		case ',':
			if depth == 0 {
				parts = append(parts, expr[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return fmt.Errorf("unbalanced parentheses in fetch '%s'", expr)
	}
	parts = append(parts, expr[start:])
	name := func(p string) string {
		if i := strings.IndexByte(p, '('); i >= 0 {
			return p[:i]
		}
		return p
	}
	fetch := name(parts[0])
	if !isSampleFetch(fetch) && !strings.HasPrefix(fetch, "lua.") {
		return fmt.Errorf("unknown fetch method '%s' in ACL expression%s", fetch, didYouMean(suggest(fetch, sampleFetches), '\''))
	}
	for _, p := range parts[1:] {
		conv := name(p)
		if !isSampleConverter(conv) && !strings.HasPrefix(conv, "lua.") {
			return fmt.Errorf("unknown converter '%s' in '%s'%s", conv, expr, didYouMean(suggest(conv, sampleConverters), '\''))
		}
	}
	return nil
}
