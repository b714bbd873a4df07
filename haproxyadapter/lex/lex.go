// Package lex reads haproxy.cfg text into sections of statements, applying
// HAProxy's quoting, escaping, environment expansion and conditional-block
// rules. It knows nothing about what keywords mean: that is package config's
// job. Every statement keeps the file and line it came from.
package lex

import "fmt"

// Pos is a place in a configuration file.
type Pos struct {
	File string
	Line int
}

// String returns "file:line", the form every error and warning uses.
func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Statement is one logical line inside a section, after quotes, escapes and
// environment variables have been processed.
type Statement struct {
	Pos Pos
	// Prefix is "no" or "default" when the line starts with one of those
	// modifiers (e.g. "no option httplog"), otherwise empty.
	Prefix string
	// Words holds the keyword (Words[0]) and its arguments. Never empty.
	Words []string
}

// NewStatement makes the statement of a line of words read at pos, which
// must not be empty: a leading "no" or "default" becomes its Prefix. Other
// readers of HAProxy's syntax (the Caddyfile) build sections with it.
func NewStatement(pos Pos, words []string) Statement {
	st := Statement{Pos: pos, Words: words}
	if (words[0] == "no" || words[0] == "default") && len(words) > 1 {
		st.Prefix = words[0]
		st.Words = words[1:]
	}
	return st
}

// Keyword returns Words[0].
func (s Statement) Keyword() string { return s.Words[0] }

// Args returns the words after the keyword.
func (s Statement) Args() []string { return s.Words[1:] }

// Section is one section of the file: its header line and its statements.
type Section struct {
	Pos Pos
	// Kind is the section keyword as written, lower case: "global",
	// "defaults", "frontend", "backend", "listen", "userlist", "resolvers",
	// "peers", "mailers", "cache", "program", "http-errors", "ring", and
	// the other section keywords HAProxy knows.
	Kind string
	// Name is the section name, empty when none was given.
	Name string
	// From is the defaults section named with "from <name>", if any.
	From string
	// Args are the remaining words of the header line, e.g. the address in
	// the legacy form "listen web 0.0.0.0:80".
	Args []string
	// Statements in file order.
	Statements []Statement
}

// File is a parsed configuration: the sections of one or more files in order.
type File struct {
	Sections []*Section
	// Messages are the ".notice", ".warning" and ".diag" directives met
	// in active blocks, in file order.
	Messages []Message
}

// Level is the severity of a Message.
type Level string

// Message levels, named after the directives that produce them.
const (
	LevelNotice  Level = "notice"
	LevelWarning Level = "warning"
	LevelDiag    Level = "diag"
)

// Message is a text the configuration asked to be reported, with a
// ".notice", ".warning" or ".diag" directive. (".alert" is an error.)
type Message struct {
	Pos   Pos
	Level Level
	Text  string
}

// Error is a syntax error at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

func errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
