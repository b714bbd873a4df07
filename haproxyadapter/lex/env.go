package lex

import (
	"slices"
	"strings"
)

// environment is the process environment as the configuration sees it at
// the current line. HAProxy runs "setenv", "presetenv", "unsetenv" and
// "resetenv" from the global section while it reads the file, so later
// lines see their effect. The changes live in an overlay here; the real
// process environment is never modified.
type environment struct {
	base  func(string) (string, bool)
	set   map[string]string
	unset map[string]bool
	// cleared is true after "resetenv": names absent from the overlay
	// are then unset whatever the base environment says.
	cleared bool
}

func newEnvironment(base func(string) (string, bool)) *environment {
	if base == nil {
		base = func(string) (string, bool) { return "", false }
	}
	return &environment{base: base, set: map[string]string{}, unset: map[string]bool{}}
}

func (e *environment) lookup(name string) (string, bool) {
	if v, ok := e.set[name]; ok {
		return v, true
	}
	if e.unset[name] || e.cleared {
		return "", false
	}
	return e.base(name)
}

func (e *environment) setenv(name, value string) {
	e.set[name] = value
	delete(e.unset, name)
}

func (e *environment) unsetenv(name string) {
	delete(e.set, name)
	e.unset[name] = true
}

// resetenv removes every variable except the named ones.
func (e *environment) resetenv(keep []string) {
	kept := make(map[string]string, len(keep))
	for _, name := range keep {
		if v, ok := e.lookup(name); ok {
			kept[name] = v
		}
	}
	e.set = kept
	e.unset = map[string]bool{}
	e.cleared = true
}

// applyEnvStatement runs one of the global environment keywords as HAProxy
// 2.6 does. "setenv" and "presetenv" with too few words or more than one
// extra word change nothing there (it reports an error, as package config
// should); with exactly one extra word 2.6 sets the variable and ignores
// the extra word without a message, so this does too.
func (e *environment) applyEnvStatement(words []string) {
	applies := len(words) == 3 || len(words) == 4
	switch words[0] {
	case "setenv":
		if applies {
			e.setenv(words[1], words[2])
		}
	case "presetenv":
		if applies {
			if _, ok := e.lookup(words[1]); !ok {
				e.setenv(words[1], words[2])
			}
		}
	case "unsetenv":
		for _, name := range words[1:] {
			e.unsetenv(name)
		}
	case "resetenv":
		e.resetenv(words[1:])
	}
}

// expandAddress applies the second, quote-free expansion HAProxy performs
// on every address it parses (str2sa_range): "$NAME" and "${NAME}" are
// replaced anywhere in the word, an unset variable becomes empty, a
// missing "}" is tolerated and "${NAME-default}" is not understood (the
// "-default}" stays as text). budget limits the bytes variables may add.
func (e *environment) expandAddress(word string, budget *int) (string, bool) {
	if !strings.Contains(word, "$") {
		return word, true
	}
	var b strings.Builder
	for i := 0; i < len(word); {
		c := word[i]
		if c != '$' {
			b.WriteByte(c)
			i++
			continue
		}
		i++
		braced := i < len(word) && word[i] == '{'
		if braced {
			i++
		}
		start := i
		for i < len(word) && (isAlnum(word[i]) || word[i] == '_') {
			i++
		}
		value, _ := e.lookup(word[start:i])
		if braced && i < len(word) && word[i] == '}' {
			i++
		}
		if *budget -= len(value); *budget < 0 {
			return "", false
		}
		b.WriteString(value)
	}
	return b.String(), true
}

// addressWords returns the indexes of the words of a statement that
// HAProxy parses as addresses, and so expands variables in even without
// quotes. Checked against HAProxy 2.6 for each keyword and option listed.
func addressWords(words []string) []int {
	var idx []int
	// options is where address-taking options may start.
	options := len(words)
	switch words[0] {
	case "bind", "log", "dgram-bind":
		idx = append(idx, 1)
	case "source":
		idx = append(idx, 1)
		options = 2
	case "peer", "nameserver", "mailer":
		idx = append(idx, 2)
	case "server":
		idx = append(idx, 2)
		options = 3
	case "server-template":
		idx = append(idx, 3)
		options = 4
	case "default-server":
		options = 1
	case "stats":
		if len(words) > 1 && words[1] == "socket" {
			idx = append(idx, 2)
		}
	}
	for i := options; i+1 < len(words); i++ {
		switch words[i] {
		case "addr", "source", "socks4", "usesrc":
			idx = append(idx, i+1)
			i++
		}
	}
	// A missing address is package config's error to report.
	return slices.DeleteFunc(idx, func(i int) bool { return i >= len(words) })
}
