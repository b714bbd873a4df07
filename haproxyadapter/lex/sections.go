package lex

import "slices"

// SectionKeywords lists the keywords that start a section in HAProxy 2.6,
// in the order its documentation introduces them. "namespace_list" is the
// network-namespace section of Linux builds. The SPOE sections
// ("spoe-agent", "spoe-message", "spoe-group") live in a separate SPOE
// file, not in haproxy.cfg, and HAProxy 2.6 rejects them here.
var SectionKeywords = []string{
	"global",
	"defaults",
	"frontend",
	"backend",
	"listen",
	"userlist",
	"peers",
	"mailers",
	"resolvers",
	"cache",
	"program",
	"http-errors",
	"ring",
	"log-forward",
	"fcgi-app",
	"namespace_list",
}

// IsSectionKeyword reports whether word starts a section. Section
// keywords are case-sensitive, as in HAProxy.
func IsSectionKeyword(word string) bool { return slices.Contains(SectionKeywords, word) }

// headerRule says how a section header line is read.
type headerRule struct {
	// missingName is the error when the name is required and absent;
	// empty when the name is optional or not allowed.
	missingName string
	// noName: the section takes no name (global).
	noName bool
	// from: the header accepts "from <defaults>".
	from bool
	// strict: extra words are an error. Otherwise they go into
	// Section.Args, where package config decides (HAProxy 2.6 ignores
	// them for some sections, and the legacy "listen <name> <address>"
	// form lands there too).
	strict bool
}

// headerRules mirrors what HAProxy 2.6 answers for each header; the
// messages are its wording.
var headerRules = map[string]headerRule{
	"global":         {noName: true, strict: true},
	"defaults":       {from: true},
	"frontend":       {missingName: "'frontend' expects an <id> argument", from: true},
	"backend":        {missingName: "'backend' expects an <id> argument", from: true},
	"listen":         {missingName: "'listen' expects an <id> argument", from: true},
	"userlist":       {missingName: "'userlist' expects <name> as arguments", strict: true},
	"peers":          {missingName: "missing name for peers section", strict: true},
	"mailers":        {missingName: "missing name for mailers section"},
	"resolvers":      {missingName: "missing name for resolvers section"},
	"cache":          {missingName: "'cache' expects a <name> argument", strict: true},
	"program":        {missingName: "'program' expects an <id> argument", strict: true},
	"http-errors":    {missingName: "missing name for http-errors section"},
	"ring":           {missingName: "missing ring name"},
	"log-forward":    {missingName: "missing name for log-forward section", strict: true},
	"fcgi-app":       {missingName: "'fcgi-app' expects <name> as argument", strict: true},
	"namespace_list": {noName: true},
}

// parseHeader builds a Section from its header words.
func parseHeader(pos Pos, words []string) (*Section, *Error) {
	kind := words[0]
	rule := headerRules[kind]
	sec := &Section{Pos: pos, Kind: kind}
	rest := words[1:]

	if !rule.noName {
		// "defaults from x" names no section but inherits from x.
		anonymousFrom := kind == "defaults" && len(rest) >= 2 && rest[0] == "from"
		switch {
		case anonymousFrom:
		case len(rest) > 0:
			sec.Name = rest[0]
			rest = rest[1:]
		case rule.missingName != "":
			return nil, errorf(pos, "%s", rule.missingName)
		}
	}
	if rule.from && len(rest) >= 2 && rest[0] == "from" {
		sec.From = rest[1]
		rest = rest[2:]
		if len(rest) > 0 {
			return nil, errorf(pos, "'%s' cannot handle unexpected argument '%s'", kind, rest[0])
		}
	}
	if len(rest) > 0 {
		if rule.strict {
			return nil, errorf(pos, "'%s' cannot handle unexpected argument '%s'", kind, rest[0])
		}
		sec.Args = rest
	}
	return sec, nil
}
