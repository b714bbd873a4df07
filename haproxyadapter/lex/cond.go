package lex

import (
	"fmt"
	"strconv"
	"strings"
)

// maxNestedIf is HAProxy 2.6's limit: the 100th nested ".if" is an error.
const maxNestedIf = 100

// maxParens bounds parenthesis nesting in one condition, so the recursive
// evaluator cannot be driven arbitrarily deep by a hostile line.
const maxParens = 64

// reportedVersion is the HAProxy version that version_atleast() and
// version_before() compare against: the 2.6 release this implementation
// is checked against.
var reportedVersion = parseVersion("2.6.12")

// features answers feature(X). HAProxy tests its build options; here a
// feature is present only when the Caddy-based runtime really provides
// what configs guard with it. OPENSSL guards TLS ("bind ... ssl crt",
// "server ... ssl"), which Caddy provides. LUA, PCRE/PCRE2 (Go's regexp is
// RE2, not PCRE), PROMEX, QUIC and the others are absent, so blocks that
// need them are left out rather than half-translated.
var features = map[string]bool{
	"OPENSSL": true,
}

// condEvaluator evaluates the expression of a ".if" or ".elif" line.
type condEvaluator struct {
	env  *environment
	text string
	pos  int
}

// condError is an evaluation failure with the 1-based position in the
// expression where it was detected.
type condError struct {
	msg string
	pos int
}

func evalCondition(env *environment, text string) (bool, *condError) {
	e := &condEvaluator{env: env, text: text}
	e.skipSpaces()
	if e.pos == len(e.text) {
		// A bare ".if" is false, as in HAProxy.
		return false, nil
	}
	v, err := e.expr(0)
	if err != nil {
		return false, err
	}
	e.skipSpaces()
	if e.pos < len(e.text) {
		return false, e.fail("unexpected character '%c' at the end of conditional expression '%s'", e.text[e.pos], e.text)
	}
	return v, nil
}

func (e *condEvaluator) fail(format string, args ...any) *condError {
	return &condError{msg: fmt.Sprintf(format, args...), pos: e.pos + 1}
}

func (e *condEvaluator) skipSpaces() {
	for e.pos < len(e.text) && (e.text[e.pos] == ' ' || e.text[e.pos] == '\t') {
		e.pos++
	}
}

// expr := and ( "||" and )*. Every operand is evaluated, as in HAProxy, so
// errors on the right of a decided "||" are still reported.
func (e *condEvaluator) expr(depth int) (bool, *condError) {
	v, err := e.and(depth)
	if err != nil {
		return false, err
	}
	for {
		e.skipSpaces()
		if !strings.HasPrefix(e.text[e.pos:], "||") {
			return v, nil
		}
		e.pos += 2
		r, err := e.and(depth)
		if err != nil {
			return false, err
		}
		v = v || r
	}
}

// and := term ( "&&" term )*.
func (e *condEvaluator) and(depth int) (bool, *condError) {
	v, err := e.term(depth)
	if err != nil {
		return false, err
	}
	for {
		e.skipSpaces()
		if !strings.HasPrefix(e.text[e.pos:], "&&") {
			return v, nil
		}
		e.pos += 2
		r, err := e.term(depth)
		if err != nil {
			return false, err
		}
		v = v && r
	}
}

// term := "!" term | "(" expr ")" | integer | predicate "(" args ")".
func (e *condEvaluator) term(depth int) (bool, *condError) {
	negate := false
	for {
		e.skipSpaces()
		if e.pos < len(e.text) && e.text[e.pos] == '!' {
			negate = !negate
			e.pos++
			continue
		}
		break
	}
	v, err := e.operand(depth)
	return v != negate, err
}

func (e *condEvaluator) operand(depth int) (bool, *condError) {
	if e.pos >= len(e.text) {
		return false, e.fail("unparsable conditional expression ''")
	}
	c := e.text[e.pos]
	switch {
	case c == '(':
		if depth >= maxParens {
			return false, e.fail("too many nested parentheses in conditional expression (at most %d)", maxParens)
		}
		open := e.pos
		e.pos++
		v, err := e.expr(depth + 1)
		if err != nil {
			return false, err
		}
		e.skipSpaces()
		if e.pos >= len(e.text) || e.text[e.pos] != ')' {
			e.pos = open
			return false, e.fail("expected ')' after conditional expression '%s'", e.text[open:])
		}
		e.pos++
		return v, nil
	case isDigit(c) || c == '-' || c == '+':
		return e.integer()
	}
	start := e.pos
	for e.pos < len(e.text) && (isAlnum(e.text[e.pos]) || e.text[e.pos] == '_') {
		e.pos++
	}
	name := e.text[start:e.pos]
	arity, known := predicateArity[name]
	if !known || e.pos >= len(e.text) || e.text[e.pos] != '(' {
		e.pos = start
		return false, e.fail("unparsable conditional expression '%s'", e.text[start:])
	}
	e.pos++
	args, err := e.arguments(name, arity)
	if err != nil {
		return false, err
	}
	return e.predicate(name, args), nil
}

// integer reads a number the way strtoll with base 0 does (decimal,
// 0x-hex, 0-octal); any non-zero value is true.
func (e *condEvaluator) integer() (bool, *condError) {
	start := e.pos
	if e.text[e.pos] == '-' || e.text[e.pos] == '+' {
		e.pos++
	}
	base := 10
	digits := e.pos
	if strings.HasPrefix(e.text[e.pos:], "0x") || strings.HasPrefix(e.text[e.pos:], "0X") {
		if e.pos+2 < len(e.text) {
			if _, ok := unhex(e.text[e.pos+2]); ok {
				base = 16
				e.pos += 2
				digits = e.pos
			}
		}
	} else if strings.HasPrefix(e.text[e.pos:], "0") {
		base = 8
	}
	nonZero := false
	for e.pos < len(e.text) {
		d, ok := unhex(e.text[e.pos])
		if !ok || int(d) >= base {
			break
		}
		nonZero = nonZero || d != 0
		e.pos++
	}
	if e.pos == digits {
		e.pos = start
		return false, e.fail("unparsable conditional expression '%s'", e.text[start:])
	}
	return nonZero, nil
}

// predicateArity lists the predicates HAProxy 2.6 knows and how many
// string arguments each takes ("strstr" and "enabled" came later).
var predicateArity = map[string]int{
	"defined":         1,
	"feature":         1,
	"streq":           2,
	"strneq":          2,
	"version_atleast": 1,
	"version_before":  1,
}

// arguments reads the comma-separated arguments after "name(" up to the
// closing parenthesis. Quotes protect commas and parentheses; a
// backslash is an ordinary byte here, as in HAProxy 2.6. Spaces are kept.
func (e *condEvaluator) arguments(name string, arity int) ([]string, *condError) {
	var args []string
	var cur strings.Builder
	quote := byte(0)
	for {
		if e.pos >= len(e.text) {
			return nil, e.fail("expected ')' in argument %d of predicate '%s'", len(args)+1, name)
		}
		c := e.text[e.pos]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && (c == ',' || c == ')'):
			args = append(args, cur.String())
			cur.Reset()
			if c == ',' && len(args) >= arity {
				return nil, e.fail("expected ')' before '%s' in argument %d of predicate '%s'", e.text[e.pos:], len(args), name)
			}
			e.pos++
			if c == ')' {
				// "defined()" has one empty argument, like HAProxy.
				if len(args) < arity {
					return nil, e.fail("missing arguments (got %d/%d) of predicate '%s'", len(args), arity, name)
				}
				return args, nil
			}
			continue
		default:
			cur.WriteByte(c)
		}
		e.pos++
	}
}

func (e *condEvaluator) predicate(name string, args []string) bool {
	switch name {
	case "defined":
		_, ok := e.env.lookup(args[0])
		return ok
	case "feature":
		return features[args[0]]
	case "streq":
		return args[0] == args[1]
	case "strneq":
		return args[0] != args[1]
	case "version_atleast":
		return compareVersions(reportedVersion, parseVersion(args[0])) >= 0
	case "version_before":
		return compareVersions(reportedVersion, parseVersion(args[0])) < 0
	}
	return false
}

// version is major, minor, patch, stage and stage number. Stages order
// development snapshots before pre-releases, release candidates and the
// release itself, so "2.7-dev0" < "2.7".
type version [5]int

const (
	stageDev = iota
	stagePre
	stageRC
	stageRelease
)

// parseVersion reads "2.6", "2.6.12", "2.7-dev3", "2.6-rc1". Text it
// cannot read counts as version 0, so version_atleast(garbage) is true
// and version_before(garbage) false, as HAProxy 2.6 answers.
func parseVersion(s string) version {
	var v version
	v[3] = stageRelease
	main, suffix, _ := strings.Cut(s, "-")
	parts := strings.Split(main, ".")
	if len(parts) > 3 {
		return version{}
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return version{}
		}
		v[i] = n
	}
	for _, st := range []struct {
		prefix string
		stage  int
	}{{"dev", stageDev}, {"pre", stagePre}, {"rc", stageRC}} {
		if rest, ok := strings.CutPrefix(suffix, st.prefix); ok {
			v[3] = st.stage
			v[4], _ = strconv.Atoi(rest)
		}
	}
	return v
}

func compareVersions(a, b version) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
