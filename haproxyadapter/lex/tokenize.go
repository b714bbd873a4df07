package lex

import (
	"bytes"
	"strconv"
)

// maxWords is the most words HAProxy accepts on one line; it rejects
// longer lines ("too many words").
const maxWords = 64

// maxExpansion bounds the bytes environment variables may add to one
// file, so a few "setenv" lines cannot blow a small file up to gigabytes.
const maxExpansion = 64 << 20

// word is one argument of a line.
type word struct {
	text string
	// col is the 1-based byte column where the word starts.
	col int
	// emptyVar names the variable that expanded to nothing inside this
	// word, to explain an empty word.
	emptyVar string
}

// tokenizer cuts one physical line into words following HAProxy's rules
// (parse_line in its tools.c, re-implemented from its documentation and
// observed behaviour).
type tokenizer struct {
	env     *environment
	file    string
	line    int
	section string // value of ${.SECTION}; empty before any section
	inSect  bool
	budget  int // bytes environment expansion may still add
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (t *tokenizer) errAt(format string, args ...any) *Error {
	return errorf(Pos{File: t.file, Line: t.line}, format, args...)
}

// pseudo returns the value of the built-in variables ${.FILE}, ${.LINE}
// and ${.SECTION}; known is false for any other dotted name.
func (t *tokenizer) pseudo(name string) (value string, set, known bool) {
	switch name {
	case ".FILE":
		return t.file, true, true
	case ".LINE":
		return strconv.Itoa(t.line), true, true
	case ".SECTION":
		return t.section, t.inSect, true
	}
	return "", false, false
}

// lineScanner holds the state of one split call.
type lineScanner struct {
	t     *tokenizer
	raw   []byte
	words []word
	// out collects the bytes of the current word, which started at
	// column wordCol.
	out      []byte
	wordCol  int
	emptyVar string
	dquote   bool
}

// nextWord ends the current word and starts one at column col. Like
// HAProxy, it counts the new word even if it stays empty, so 64 words
// followed by a blank are already too many.
func (s *lineScanner) nextWord(col int) *Error {
	s.words = append(s.words, word{text: string(s.out), col: s.wordCol, emptyVar: s.emptyVar})
	s.out = s.out[:0]
	s.emptyVar = ""
	s.wordCol = col
	if len(s.words) >= maxWords {
		return s.t.errAt("too many words, at most %d are allowed on a line", maxWords)
	}
	return nil
}

// split returns the words of raw, one physical line without its LF.
//
// The statement ends at CR or at an unquoted '#'; what follows on the
// same physical line is ignored. Words are separated by unquoted blanks;
// quoted and unquoted pieces glue together. Outside single quotes a
// backslash escapes as HAProxy documents; inside double quotes "$NAME",
// "${NAME}", "${NAME-default}" and "${NAME[*]}" are expanded.
func (t *tokenizer) split(raw []byte) ([]word, *Error) {
	s := &lineScanner{t: t, raw: raw}
	squote := false
	quoteCol := 0
	i := 0
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	s.wordCol = i + 1

scan:
	for i < len(raw) {
		c := raw[i]
		var err *Error
		switch {
		case c == '\r' || c == '\n':
			break scan
		case c == '#' && !squote && !s.dquote:
			break scan
		case c == '"' && !squote:
			s.dquote = !s.dquote
			quoteCol = i + 1
			i++
		case c == '\'' && !s.dquote:
			squote = !squote
			quoteCol = i + 1
			i++
		case c == '\\' && !squote:
			i, err = s.escape(i)
		case isSpace(c) && !squote && !s.dquote:
			// A run of blanks separates words. The run may include CR:
			// "a \rb" has two words while "a\rb" has one, as in HAProxy.
			for i < len(raw) && isSpace(raw[i]) {
				i++
			}
			err = s.nextWord(i + 1)
		case c == '$' && s.dquote:
			i, err = s.expand(i)
		default:
			s.out = append(s.out, c)
			i++
		}
		if err != nil {
			return nil, err
		}
	}
	if squote || s.dquote {
		return nil, t.errAt("unmatched quote at position %d", quoteCol)
	}
	// An empty last word (trailing blanks, or "" at the end) is dropped.
	if len(s.out) > 0 {
		s.words = append(s.words, word{text: string(s.out), col: s.wordCol, emptyVar: s.emptyVar})
	}
	return s.words, nil
}

// escape handles the backslash at raw[i] and returns the index after it.
func (s *lineScanner) escape(i int) (int, *Error) {
	raw := s.raw
	if i+1 >= len(raw) {
		s.out = append(s.out, '\\')
		return i + 1, nil
	}
	switch n := raw[i+1]; n {
	case ' ', '\\', '#', '\'', '"':
		s.out = append(s.out, n)
		return i + 2, nil
	case 't':
		s.out = append(s.out, '\t')
		return i + 2, nil
	case 'n':
		s.out = append(s.out, '\n')
		return i + 2, nil
	case 'r':
		s.out = append(s.out, '\r')
		return i + 2, nil
	case '$':
		// "\$" is an escape only where '$' would otherwise expand.
		if s.dquote {
			s.out = append(s.out, '$')
			return i + 2, nil
		}
	case 'x':
		if i+3 >= len(raw) {
			return 0, s.t.errAt("truncated or invalid hexadecimal sequence at position %d", i+1)
		}
		hi, ok1 := unhex(raw[i+2])
		lo, ok2 := unhex(raw[i+3])
		if !ok1 || !ok2 {
			return 0, s.t.errAt("truncated or invalid hexadecimal sequence at position %d", i+1)
		}
		b := hi<<4 | lo
		if b == 0 {
			// HAProxy would silently cut the word here; refuse instead.
			return 0, s.t.errAt("\\x00 at position %d would produce a NUL byte", i+1)
		}
		s.out = append(s.out, b)
		return i + 4, nil
	}
	// Any other pair is not an escape: the backslash stays, so regexes
	// keep "\d", "\." and "\1".
	s.out = append(s.out, '\\')
	return i + 1, nil
}

// expand handles the '$' at raw[i], inside double quotes, and returns the
// index after the variable reference. With "[*]" the value is split into
// words on blanks, which may end the current word and start new ones.
func (s *lineScanner) expand(i int) (int, *Error) {
	raw, t := s.raw, s.t
	dollar := i
	i++
	brace := -1
	if i < len(raw) && raw[i] == '{' {
		brace = i
		i++
	}
	if i >= len(raw) || !(isAlpha(raw[i]) || raw[i] == '_' || raw[i] == '.') {
		return 0, t.errAt("forbidden first char in environment variable name at position %d", i+1)
	}
	nameStart := i
	if raw[i] == '.' {
		i++
	}
	for i < len(raw) && (isAlnum(raw[i]) || raw[i] == '_') {
		i++
	}
	name := string(raw[nameStart:i])
	var value string
	var set bool
	if name[0] == '.' {
		var known bool
		value, set, known = t.pseudo(name)
		if !known {
			// HAProxy rejects unknown pseudo-variables the same way.
			return 0, t.errAt("forbidden first char in environment variable name at position %d", nameStart+1)
		}
	} else {
		value, set = t.env.lookup(name)
	}

	splitWords := false
	if brace >= 0 && i < len(raw) && raw[i] == '[' {
		if i+2 >= len(raw) || raw[i+1] != '*' || raw[i+2] != ']' {
			return 0, t.errAt("truncated or invalid word expansion sequence at position %d", i+1)
		}
		splitWords = true
		i += 3
	}
	if brace >= 0 {
		switch {
		case i < len(raw) && raw[i] == '-':
			// The default runs verbatim up to the closing brace and is used
			// only when the variable is unset (not when it is empty).
			end := bytes.IndexByte(raw[i+1:], '}')
			if end < 0 {
				return 0, t.errAt("unmatched brace in environment variable name at position %d", brace+1)
			}
			if !set {
				value = string(raw[i+1 : i+1+end])
			}
			i += 1 + end + 1
		case i < len(raw) && raw[i] == '}':
			i++
		default:
			return 0, t.errAt("unmatched brace in environment variable name at position %d", brace+1)
		}
	}

	if t.budget -= len(value); t.budget < 0 {
		return 0, t.errAt("environment variables expand to more than %d bytes in this file", maxExpansion)
	}
	if value == "" {
		s.emptyVar = name
	}
	for k := 0; k < len(value); {
		if splitWords && isSpace(value[k]) {
			for k < len(value) && isSpace(value[k]) {
				k++
			}
			if err := s.nextWord(dollar + 1); err != nil {
				return 0, err
			}
			continue
		}
		s.out = append(s.out, value[k])
		k++
	}
	return i, nil
}
