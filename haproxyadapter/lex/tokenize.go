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

// split returns the words of raw, one physical line without its LF.
//
// The statement ends at CR or at an unquoted '#'; what follows on the
// same physical line is ignored. Words are separated by unquoted blanks;
// quoted and unquoted pieces glue together. Outside single quotes a
// backslash escapes as HAProxy documents; inside double quotes "$NAME",
// "${NAME}", "${NAME-default}" and "${NAME[*]}" are expanded.
func (t *tokenizer) split(raw []byte) ([]word, *Error) {
	var (
		words          []word
		out            []byte
		squote, dquote bool
		quoteCol       int
		emptyVar       string
	)
	i := 0
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	wordCol := i + 1
	endWord := func(nextCol int) {
		words = append(words, word{text: string(out), col: wordCol, emptyVar: emptyVar})
		out = out[:0]
		emptyVar = ""
		wordCol = nextCol
	}

scan:
	for i < len(raw) {
		c := raw[i]
		switch {
		case c == '\r' || c == '\n':
			break scan
		case c == '#' && !squote && !dquote:
			break scan
		case c == '"' && !squote:
			dquote = !dquote
			quoteCol = i + 1
			i++
		case c == '\'' && !dquote:
			squote = !squote
			quoteCol = i + 1
			i++
		case c == '\\' && !squote:
			n, err := t.escape(raw, i, dquote, &out)
			if err != nil {
				return nil, err
			}
			i += n
		case c != '\r' && c != '\n' && isSpace(c) && !squote && !dquote:
			// A run of blanks separates words. HAProxy's skip loop also
			// swallows CR here, so "a \rb" has two words while "a\rb"
			// has one.
			for i < len(raw) && isSpace(raw[i]) {
				i++
			}
			endWord(i + 1)
			// Like HAProxy, count the word the blank starts even if it
			// stays empty: 64 words and a trailing blank are too many.
			if len(words) >= maxWords {
				return nil, t.errAt("too many words, at most %d are allowed on a line", maxWords)
			}
		case c == '$' && dquote:
			n, err := t.expand(raw, i, &out, &words, &wordCol, &emptyVar)
			if err != nil {
				return nil, err
			}
			i += n
		default:
			out = append(out, c)
			i++
		}
	}
	if squote || dquote {
		return nil, t.errAt("unmatched quote at position %d", quoteCol)
	}
	// An empty last word (trailing blanks, or "" at the end) is dropped.
	if len(out) > 0 {
		endWord(0)
	}
	return words, nil
}

// escape handles the backslash at raw[i] and returns how many input bytes
// it consumed.
func (t *tokenizer) escape(raw []byte, i int, dquote bool, out *[]byte) (int, *Error) {
	if i+1 >= len(raw) {
		*out = append(*out, '\\')
		return 1, nil
	}
	switch n := raw[i+1]; n {
	case ' ', '\\', '#', '\'', '"':
		*out = append(*out, n)
		return 2, nil
	case 't':
		*out = append(*out, '\t')
		return 2, nil
	case 'n':
		*out = append(*out, '\n')
		return 2, nil
	case 'r':
		*out = append(*out, '\r')
		return 2, nil
	case '$':
		// "\$" is an escape only where '$' would otherwise expand.
		if dquote {
			*out = append(*out, '$')
			return 2, nil
		}
	case 'x':
		if i+3 >= len(raw) {
			return 0, t.errAt("truncated or invalid hexadecimal sequence at position %d", i+1)
		}
		hi, ok1 := unhex(raw[i+2])
		lo, ok2 := unhex(raw[i+3])
		if !ok1 || !ok2 {
			return 0, t.errAt("truncated or invalid hexadecimal sequence at position %d", i+1)
		}
		b := hi<<4 | lo
		if b == 0 {
			// HAProxy would silently cut the word here; refuse instead.
			return 0, t.errAt("\\x00 at position %d would produce a NUL byte", i+1)
		}
		*out = append(*out, b)
		return 4, nil
	}
	// Any other pair is not an escape: the backslash stays, so regexes
	// keep "\d", "\." and "\1".
	*out = append(*out, '\\')
	return 1, nil
}

// expand handles the '$' at raw[i], inside double quotes, and returns how
// many input bytes it consumed. With "[*]" the value is split into words
// on blanks, which may end the current word and start new ones.
func (t *tokenizer) expand(raw []byte, i int, out *[]byte, words *[]word, wordCol *int, emptyVar *string) (int, *Error) {
	start := i
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
	var ok bool
	if name[0] == '.' {
		known := false
		value, ok, known = t.pseudo(name)
		if !known {
			// HAProxy rejects unknown pseudo-variables the same way.
			return 0, t.errAt("forbidden first char in environment variable name at position %d", nameStart+1)
		}
	} else {
		value, ok = t.env.lookup(name)
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
			if !ok {
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
		*emptyVar = name
	}
	for k := 0; k < len(value); {
		if splitWords && isSpace(value[k]) {
			*words = append(*words, word{text: string(*out), col: *wordCol, emptyVar: *emptyVar})
			*out = (*out)[:0]
			*emptyVar = ""
			*wordCol = start + 1
			for k < len(value) && isSpace(value[k]) {
				k++
			}
			if len(*words) >= maxWords {
				return 0, t.errAt("too many words, at most %d are allowed on a line", maxWords)
			}
			continue
		}
		*out = append(*out, value[k])
		k++
	}
	return i - start, nil
}
