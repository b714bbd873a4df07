package lex

import (
	"bytes"
	"strings"
)

// Parse reads one haproxy.cfg. filename is used in positions. env looks up
// environment variables (os.LookupEnv in production); nil means an empty
// environment. The first error found is returned as an *Error.
//
// Parse follows HAProxy 2.6 where it is observable (see haproxy_test.go),
// including its refusals: a NUL byte, a last line without LF, more than 64
// words on a line, a leading byte order mark. It differs on purpose in two places, both failing
// closed: an empty word before the end of a line ("" or an unset variable
// in quotes) is an error, as in later HAProxy versions (2.6 hands it to
// the keyword, and most keywords then silently ignore the words after
// it), and "\x00" is an error where 2.6 silently cuts the word there.
func Parse(filename string, data []byte, env func(string) (string, bool)) (*File, error) {
	p := &parser{
		file: &File{},
		tok: tokenizer{
			env:    newEnvironment(env),
			file:   filename,
			budget: maxExpansion,
		},
	}
	if err := p.run(data); err != nil {
		return nil, err
	}
	return p.file, nil
}

// condFrame is one open ".if" block.
type condFrame struct {
	pos Pos
	// state of the block: which branch is live.
	state condState
	// sawElse is set once ".else" was met.
	sawElse bool
}

type condState int

const (
	// condTaking: the current branch is active.
	condTaking condState = iota
	// condWaiting: no branch taken yet; later ".elif"/".else" may take one.
	condWaiting
	// condDone: a branch was taken; the remaining ones are skipped.
	condDone
	// condSkipped: the whole block sits in an inactive branch.
	condSkipped
)

type parser struct {
	file    *File
	tok     tokenizer
	conds   []condFrame
	current *Section
}

func (p *parser) pos() Pos { return Pos{File: p.tok.file, Line: p.tok.line} }

// active reports whether lines at this point are taken into account.
func (p *parser) active() bool {
	return len(p.conds) == 0 || p.conds[len(p.conds)-1].state == condTaking
}

func (p *parser) run(data []byte) error {
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		// HAProxy reads the BOM as part of the first keyword and reports
		// an unknown keyword that looks right; say what is wrong instead.
		return errorf(Pos{File: p.tok.file, Line: 1}, "the file starts with a UTF-8 byte order mark, which HAProxy rejects; save it without one")
	}
	for len(data) > 0 {
		p.tok.line++
		raw := data
		nl := bytes.IndexByte(data, '\n')
		if nl >= 0 {
			raw, data = data[:nl], data[nl+1:]
		} else {
			data = nil
		}
		if err := p.line(raw); err != nil {
			return err
		}
		if nl < 0 {
			// HAProxy refuses a last line without LF: the file may have
			// been cut short, and a lost line may be an access rule.
			return errorf(p.pos(), "missing LF on last line, file might have been truncated")
		}
	}
	if len(p.conds) > 0 {
		return errorf(p.conds[len(p.conds)-1].pos, "non-terminated '.if' block")
	}
	return nil
}

// line handles one physical line.
func (p *parser) line(raw []byte) *Error {
	if i := bytes.IndexByte(raw, 0); i >= 0 {
		return errorf(p.pos(), "stray NUL character at position %d", i+1)
	}
	words, err := p.tok.split(raw)
	if err != nil {
		return err
	}
	if len(words) == 0 {
		return nil
	}
	if strings.HasPrefix(words[0].text, ".") {
		return p.directive(words)
	}
	if !p.active() {
		return nil
	}
	for i, w := range words {
		if w.text == "" {
			return p.emptyWord(i, w)
		}
	}
	texts := make([]string, len(words))
	for i, w := range words {
		texts[i] = w.text
	}

	if IsSectionKeyword(texts[0]) {
		sec, err := parseHeader(p.pos(), texts)
		if err != nil {
			return err
		}
		if (sec.Kind == "listen" || sec.Kind == "frontend") && len(sec.Args) > 0 {
			// The legacy "listen <name> <address>" form: the address
			// expands variables like any other address.
			if err := p.expandAddressWord(sec.Kind, sec.Args, 0); err != nil {
				return err
			}
		}
		p.file.Sections = append(p.file.Sections, sec)
		p.current = sec
		p.tok.inSect = true
		// ${.SECTION} is the header's second word, or the keyword when
		// there is none: HAProxy says "from" after "defaults from base".
		p.tok.section = sec.Kind
		if len(texts) > 1 {
			p.tok.section = texts[1]
		}
		return nil
	}
	if p.current == nil {
		return errorf(p.pos(), "unknown keyword '%s' out of section", texts[0])
	}

	st := NewStatement(p.pos(), texts)
	for _, i := range addressWords(st.Words) {
		if err := p.expandAddressWord(st.Words[0], st.Words, i); err != nil {
			return err
		}
	}
	if p.current.Kind == "global" && st.Prefix == "" {
		p.tok.env.applyEnvStatement(st.Words)
	}
	p.current.Statements = append(p.current.Statements, st)
	return nil
}

// expandAddressWord expands variables in words[i], an address of keyword.
func (p *parser) expandAddressWord(keyword string, words []string, i int) *Error {
	w, ok := p.tok.env.expandAddress(words[i], &p.tok.budget)
	if !ok {
		return errorf(p.pos(), "environment variables expand to more than %d bytes in this file", maxExpansion)
	}
	if w == "" {
		return errorf(p.pos(), "'%s': '%s' resolves to an empty address (environment variable missing?)", keyword, words[i])
	}
	words[i] = w
	return nil
}

func (p *parser) emptyWord(i int, w word) *Error {
	msg := "argument number %d at position %d is empty and marks the end of the argument list"
	if w.emptyVar != "" {
		return errorf(p.pos(), msg+" (is environment variable '%s' set?)", i, w.col, w.emptyVar)
	}
	return errorf(p.pos(), msg, i, w.col)
}

// directive handles a line whose first word starts with '.'.
func (p *parser) directive(words []word) *Error {
	name := words[0].text
	switch name {
	case ".if":
		return p.ifLine(words)
	case ".elif":
		return p.elifLine(words)
	case ".else", ".endif":
		if len(words) > 1 && words[1].text != "" {
			return errorf(p.pos(), "Unexpected argument '%s' for '%s'", words[1].text, name)
		}
		if name == ".else" {
			return p.elseLine()
		}
		return p.endifLine()
	}
	if !p.active() {
		// Unknown directives and messages in skipped blocks are ignored.
		return nil
	}
	var level Level
	switch name {
	case ".notice":
		level = LevelNotice
	case ".warning":
		level = LevelWarning
	case ".diag":
		level = LevelDiag
	case ".alert":
	default:
		return errorf(p.pos(), "unknown directive '%s'", name)
	}
	if len(words) > 2 && words[2].text != "" {
		return errorf(p.pos(), "Unexpected argument '%s' for '%s'. Use quotes if the message should contain spaces", words[2].text, name)
	}
	text := ""
	if len(words) > 1 {
		text = words[1].text
	}
	if name == ".alert" {
		return errorf(p.pos(), ".alert: %s", text)
	}
	p.file.Messages = append(p.file.Messages, Message{Pos: p.pos(), Level: level, Text: text})
	return nil
}

// condText re-joins the words after the directive with single spaces, as
// HAProxy does before evaluating them.
func condText(words []word) string {
	parts := make([]string, 0, len(words)-1)
	for _, w := range words[1:] {
		parts = append(parts, w.text)
	}
	return strings.Join(parts, " ")
}

func (p *parser) evaluate(directive string, words []word) (bool, *Error) {
	text := condText(words)
	v, err := evalCondition(p.tok.env, text)
	if err != nil {
		return false, errorf(p.pos(), "%s in '%s' at position %d", err.msg, directive, err.pos)
	}
	return v, nil
}

func (p *parser) ifLine(words []word) *Error {
	if len(p.conds)+1 >= maxNestedIf {
		return errorf(p.pos(), "too many nested '.if', max is %d", maxNestedIf)
	}
	frame := condFrame{pos: p.pos(), state: condSkipped}
	if p.active() {
		v, err := p.evaluate(".if", words)
		if err != nil {
			return err
		}
		frame.state = condWaiting
		if v {
			frame.state = condTaking
		}
	}
	p.conds = append(p.conds, frame)
	return nil
}

func (p *parser) elifLine(words []word) *Error {
	if len(p.conds) == 0 {
		return errorf(p.pos(), "lone '.elif' with no matching '.if'")
	}
	f := &p.conds[len(p.conds)-1]
	if f.sawElse {
		return errorf(p.pos(), "'.elif' after '.else' is not permitted")
	}
	switch f.state {
	case condTaking:
		f.state = condDone
	case condWaiting:
		v, err := p.evaluate(".elif", words)
		if err != nil {
			return err
		}
		if v {
			f.state = condTaking
		}
	}
	return nil
}

func (p *parser) elseLine() *Error {
	if len(p.conds) == 0 {
		return errorf(p.pos(), "lone '.else' with no matching '.if'")
	}
	f := &p.conds[len(p.conds)-1]
	if f.sawElse {
		return errorf(p.pos(), "'.else' after '.else' is not permitted")
	}
	f.sawElse = true
	switch f.state {
	case condTaking:
		f.state = condDone
	case condWaiting:
		f.state = condTaking
	}
	return nil
}

func (p *parser) endifLine() *Error {
	if len(p.conds) == 0 {
		return errorf(p.pos(), "lone '.endif' with no matching '.if'")
	}
	p.conds = p.conds[:len(p.conds)-1]
	return nil
}
