package config

import (
	"strings"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
)

// checkSectionKeywords reports unknown keywords and the status of the
// others in a section the model keeps only by name. It returns the
// statements whose keyword is known and allowed.
func (b *builder) checkSectionKeywords(s *lex.Section) []lex.Statement {
	var good []lex.Statement
	for _, st := range s.Statements {
		if len(st.Words) == 0 {
			continue
		}
		k, allowed := LookupKeyword(s.Kind, st.Words)
		if k == nil || !allowed {
			sug := suggest(st.Words[0], keywordsIn(sectionScopes[s.Kind], ""))
			b.errorf(st.Pos, "", "unknown keyword '%s' in '%s' section%s", st.Words[0], s.Kind, didYouMean(sug, '\''))
			continue
		}
		if st.Prefix != "" && !k.Negatable {
			b.errorf(st.Pos, k.Name, "'%s' may only precede options, log and a few global booleans", st.Prefix)
			continue
		}
		good = append(good, st)
	}
	return good
}

// otherSection keeps a section the model does not interpret, after checking
// its keywords. Its keywords' statuses are reported once for the section.
func (b *builder) otherSection(s *lex.Section) {
	b.cfg.OtherSections = append(b.cfg.OtherSections, s)
	if _, known := sectionScopes[s.Kind]; !known || s.Kind == "server" || s.Kind == "bind" {
		b.warnf(s.Pos, s.Kind, "section '%s' is not interpreted and has no effect", s.Kind)
		return
	}
	for _, st := range b.checkSectionKeywords(s) {
		k, _ := LookupKeyword(s.Kind, st.Words)
		b.reportStatus(st.Pos, k.Name, k)
	}
}

// userlist models a "userlist" section.
func (b *builder) userlist(s *lex.Section) {
	ul := &Userlist{Pos: s.Pos, Name: s.Name}
	if s.Name == "" {
		b.errorf(s.Pos, "userlist", "missing userlist name")
	}
	for _, other := range b.cfg.Userlists {
		if other.Name == s.Name && s.Name != "" {
			b.errorf(s.Pos, "userlist", "userlist '%s' was already declared at %s", s.Name, other.Pos)
		}
	}
	for _, st := range b.checkSectionKeywords(s) {
		args := st.Words[1:]
		switch st.Words[0] {
		case "user":
			if len(args) < 1 {
				b.errorf(st.Pos, "user", "missing user name")
				continue
			}
			u := &User{Pos: st.Pos, Name: args[0]}
			for i := 1; i < len(args); i++ {
				if i+1 >= len(args) {
					b.errorf(st.Pos, "user", "'%s' needs an argument", args[i])
					break
				}
				switch args[i] {
				case "password":
					u.Password = args[i+1]
				case "insecure-password":
					u.Password, u.Insecure = args[i+1], true
				case "groups":
					u.Groups = strings.Split(args[i+1], ",")
				default:
					b.errorf(st.Pos, "user", "unknown option '%s' (expected password, insecure-password or groups)", args[i])
				}
				i++
			}
			ul.Users = append(ul.Users, u)
		case "group":
			if len(args) < 1 {
				b.errorf(st.Pos, "group", "missing group name")
				continue
			}
			g := &Group{Pos: st.Pos, Name: args[0]}
			if len(args) >= 3 && args[1] == "users" {
				g.Users = strings.Split(args[2], ",")
			} else if len(args) > 1 {
				b.errorf(st.Pos, "group", "expected 'users <user>[,<user>…]' after the group name")
			}
			ul.Groups = append(ul.Groups, g)
		}
	}
	b.cfg.Userlists = append(b.cfg.Userlists, ul)
}

// httpErrors models an "http-errors" section.
func (b *builder) httpErrors(s *lex.Section) {
	he := &HTTPErrors{Pos: s.Pos, Name: s.Name, ErrorFiles: map[int]*ErrorFile{}}
	c := &proxyCtx{p: &Proxy{ErrorFiles: he.ErrorFiles}}
	for _, st := range b.checkSectionKeywords(s) {
		if proxyErrorFile(b, c, st) {
			k, _ := LookupKeyword("http-errors", st.Words)
			b.reportStatus(st.Pos, k.Name, k)
		}
	}
	if s.Name == "" {
		b.errorf(s.Pos, "http-errors", "missing section name")
	}
	b.cfg.HTTPErrors[s.Name] = he
}
