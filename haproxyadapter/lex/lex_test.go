package lex

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// mapEnv returns an environment lookup backed by m.
func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// testEnv is the environment most tests run with.
var testEnv = map[string]string{
	"A":      "alpha",
	"EMPTY":  "",
	"LIST":   "a b  c",
	"SPACE":  " lead",
	"TRAIL":  "t ",
	"HOST":   "10.0.0.7",
	"PORT":   "8080",
	"DOLLAR": "x$A",
}

// parseOK parses src and fails the test on error.
func parseOK(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse("t.cfg", []byte(src), mapEnv(testEnv))
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return f
}

// parseErr parses src and returns its error message, failing the test if
// there is none or it is not an *Error.
func parseErr(t *testing.T, src string) string {
	t.Helper()
	_, err := Parse("t.cfg", []byte(src), mapEnv(testEnv))
	if err == nil {
		t.Fatalf("Parse(%q): no error", src)
	}
	var lexErr *Error
	if !errors.As(err, &lexErr) {
		t.Fatalf("Parse(%q): error %T is not *Error", src, err)
	}
	return err.Error()
}

// lineWords parses one line inside a backend and returns its words.
func lineWords(t *testing.T, line string) []string {
	t.Helper()
	f := parseOK(t, "backend b\n"+line+"\n")
	st := f.Sections[0].Statements
	if len(st) != 1 {
		t.Fatalf("line %q: %d statements, want 1", line, len(st))
	}
	return st[0].Words
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		name string
		line string
		want []string
	}{
		// Words and blanks.
		{"plain", "kw a b", []string{"kw", "a", "b"}},
		{"leading and trailing blanks", " \t kw  a\t\tb  \t", []string{"kw", "a", "b"}},
		{"vertical tab and form feed separate", "kw\va\fb", []string{"kw", "a", "b"}},
		{"high bytes pass through", "kw caf\xc3\xa9 \xff\xfe", []string{"kw", "caf\xc3\xa9", "\xff\xfe"}},

		// Comments.
		{"comment after words", "kw a # comment", []string{"kw", "a"}},
		{"comment glued to a word", "kw a#comment", []string{"kw", "a"}},
		{"hash in double quotes", `kw "a#b"`, []string{"kw", "a#b"}},
		{"hash in single quotes", `kw 'a#b'`, []string{"kw", "a#b"}},
		{"escaped hash", `kw a\#b`, []string{"kw", "a#b"}},

		// Line ends.
		{"CR ends the statement", "kw a\rb c", []string{"kw", "a"}},
		{"CR swallowed by a blank run", "kw a \rb", []string{"kw", "a", "b"}},
		{"trailing CR of CRLF", "kw a\r", []string{"kw", "a"}},

		// Quotes and glueing.
		{"double quotes keep blanks", `kw "a b"`, []string{"kw", "a b"}},
		{"single quotes keep blanks", `kw 'a b'`, []string{"kw", "a b"}},
		{"glue quoted and unquoted", `kw "a b"'c'd`, []string{"kw", "a bcd"}},
		{"single quote inside double", `kw "it's"`, []string{"kw", "it's"}},
		{"double quote inside single", `kw 'say "hi"'`, []string{"kw", `say "hi"`}},
		{"empty quotes glue to nothing", `kw a""b`, []string{"kw", "ab"}},
		{"single quotes are strong", `kw '\x41 $A \t'`, []string{"kw", `\x41 $A \t`}},

		// Backslash escapes outside single quotes.
		{"escaped space", `kw a\ b`, []string{"kw", "a b"}},
		{"escaped backslash", `kw a\\b`, []string{"kw", `a\b`}},
		{"tab newline cr", `kw \t\n\r`, []string{"kw", "\t\n\r"}},
		{"escaped quotes", `kw \'\"`, []string{"kw", `'"`}},
		{"escaped double quote inside double quotes", `kw "a\"b"`, []string{"kw", `a"b`}},
		{"hex", `kw \x41\x6a\x4A`, []string{"kw", "AjJ"}},
		{"hex in double quotes", `kw "\x41"`, []string{"kw", "A"}},
		{"hex high byte", `kw \xff`, []string{"kw", "\xff"}},
		{"dollar escape outside quotes keeps backslash", `kw \$A`, []string{"kw", `\$A`}},
		{"dollar escape inside double quotes", `kw "\$A"`, []string{"kw", `$A`}},
		{"regex escapes kept", `kw ^/a\.b\d+\1$`, []string{"kw", `^/a\.b\d+\1$`}},
		{"backslash at end of line", `kw a\`, []string{"kw", `a\`}},
		{"backslash before CR", "kw a\\\rb", []string{"kw", `a\`}},

		// Environment: only inside double quotes.
		{"unquoted dollar is literal", `kw $A ${A}`, []string{"kw", "$A", "${A}"}},
		{"single-quoted dollar is literal", `kw '$A'`, []string{"kw", "$A"}},
		{"dollar name", `kw "$A"`, []string{"kw", "alpha"}},
		{"dollar name stops at non-name byte", `kw "$A.x"`, []string{"kw", "alpha.x"}},
		{"dollar name takes the longest name", `kw "[$Ax]"`, []string{"kw", "[]"}},
		{"braced name", `kw "${A}x"`, []string{"kw", "alphax"}},
		{"unset expands to nothing inside a word", `kw "a${NOPE}b"`, []string{"kw", "ab"}},
		{"default when unset", `kw "${NOPE-d e f}"`, []string{"kw", "d e f"}},
		{"default is verbatim", `kw "${NOPE-\x41'}"`, []string{"kw", `\x41'`}},
		{"default not used when set", `kw "${A-d}"`, []string{"kw", "alpha"}},
		{"default not used when empty but set", `kw "x${EMPTY-d}"`, []string{"kw", "x"}},
		{"value is not re-expanded", `kw "$DOLLAR"`, []string{"kw", "x$A"}},
		{"word expansion", `kw "${LIST[*]}"`, []string{"kw", "a", "b", "c"}},
		{"word expansion glues to neighbours", `kw p"${LIST[*]}"q`, []string{"kw", "pa", "b", "cq"}},
		{"word expansion of a default", `kw "${NOPE[*]-x y}"`, []string{"kw", "x", "y"}},
		{"without [*] blanks stay", `kw "${LIST}"`, []string{"kw", "a b  c"}},
		{"[ without braces is text", `kw "$A[*]"`, []string{"kw", "alpha[*]"}},
		{"pseudo line", `kw "${.LINE}" "$.LINE"`, []string{"kw", "2", "2"}},
		{"pseudo file", `kw "${.FILE}"`, []string{"kw", "t.cfg"}},
		{"pseudo with default is set", `kw "${.LINE-d}"`, []string{"kw", "2"}},
		{"pseudo section", `kw "${.SECTION}"`, []string{"kw", "b"}},

		// Empty last words are dropped.
		{"trailing empty quotes dropped", `kw a ""`, []string{"kw", "a"}},
		{"trailing unset variable dropped", `kw a "$NOPE"`, []string{"kw", "a"}},

		// Prefix keywords are plain words here.
		{"no alone", "no", []string{"no"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lineWords(t, tc.line)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("words of %q = %q, want %q", tc.line, got, tc.want)
			}
		})
	}
}

func TestTokenizeErrors(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string
	}{
		{"unmatched double quote", `kw "abc`, `t.cfg:2: unmatched quote at position 4`},
		{"unmatched single quote", `kw a 'b`, `t.cfg:2: unmatched quote at position 6`},
		{"hash does not close a quote", `kw "a # b`, `t.cfg:2: unmatched quote at position 4`},
		{"bad hex", `kw \xZ1`, `t.cfg:2: truncated or invalid hexadecimal sequence at position 4`},
		{"truncated hex", `kw ab\x4`, `t.cfg:2: truncated or invalid hexadecimal sequence at position 6`},
		{"hex zero", `kw a\x00b`, `t.cfg:2: \x00 at position 5 would produce a NUL byte`},
		{"digit after dollar", `kw "cost $5"`, `t.cfg:2: forbidden first char in environment variable name at position 11`},
		{"unknown pseudo-variable", `kw "x${.OTHER}"`, `t.cfg:2: forbidden first char in environment variable name at position 8`},
		{"lone dot", `kw "$."`, `t.cfg:2: forbidden first char in environment variable name at position 6`},
		{"unknown pseudo-variable with default", `kw "${.X-d}"`, `t.cfg:2: forbidden first char in environment variable name at position 7`},
		{"lone dollar", `kw "$"`, `t.cfg:2: forbidden first char in environment variable name at position 6`},
		{"dollar before blank", `kw "$ x"`, `t.cfg:2: forbidden first char in environment variable name at position 6`},
		{"unclosed brace", `kw "${A"`, `t.cfg:2: unmatched brace in environment variable name at position 6`},
		{"unclosed default", `kw "${A-x"`, `t.cfg:2: unmatched brace in environment variable name at position 6`},
		{"bad word expansion", `kw "${A[x]}"`, `t.cfg:2: truncated or invalid word expansion sequence at position 8`},
		{"empty quotes in the middle", `kw "" b`, `t.cfg:2: argument number 1 at position 4 is empty and marks the end of the argument list`},
		{"empty keyword", `"" kw`, `t.cfg:2: argument number 0 at position 1 is empty and marks the end of the argument list`},
		{"unset variable in the middle", `kw "$NOPE" b`, `t.cfg:2: argument number 1 at position 4 is empty and marks the end of the argument list (is environment variable 'NOPE' set?)`},
		{"empty variable in the middle", `kw a "${EMPTY}" b`, `t.cfg:2: argument number 2 at position 6 is empty and marks the end of the argument list (is environment variable 'EMPTY' set?)`},
		{"empty word before trailing blank", `kw a "" `, `t.cfg:2: argument number 2 at position 6 is empty and marks the end of the argument list`},
		{"word expansion of a leading blank", `kw "${SPACE[*]}"`, `t.cfg:2: argument number 1 at position 4 is empty and marks the end of the argument list`},
		{"too many words", "kw" + strings.Repeat(" w", 64), `t.cfg:2: too many words, at most 64 are allowed on a line`},
		{"64 words and a trailing blank", "kw" + strings.Repeat(" w", 63) + " ", `t.cfg:2: too many words, at most 64 are allowed on a line`},
		{"64 words and a comment", "kw" + strings.Repeat(" w", 63) + " # c", `t.cfg:2: too many words, at most 64 are allowed on a line`},
		{"64 words and an empty last word", "kw" + strings.Repeat(" w", 63) + ` ""`, `t.cfg:2: too many words, at most 64 are allowed on a line`},
		{"word expansion ending in a blank after 64 words", "kw" + strings.Repeat(" w", 62) + ` "${TRAIL[*]}"`, `t.cfg:2: too many words, at most 64 are allowed on a line`},
		{"too many words from expansion", "kw" + strings.Repeat(" w", 61) + ` "${LIST[*]}"`, `t.cfg:2: too many words, at most 64 are allowed on a line`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := parseErr(t, "backend b\n"+tc.line+"\n")
			if got != tc.want {
				t.Errorf("error for %q:\n got %s\nwant %s", tc.line, got, tc.want)
			}
		})
	}
}

func TestSixtyFourWordsAllowed(t *testing.T) {
	for _, line := range []string{
		"kw" + strings.Repeat(" w", 63),
		"kw" + strings.Repeat(" w", 62) + ` "w"#c`,
		"kw" + strings.Repeat(" w", 62) + ` "${LIST}"`,
	} {
		if words := lineWords(t, line); len(words) != 64 {
			t.Errorf("got %d words, want 64", len(words))
		}
	}
}

func TestFileErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"NUL byte", "global\n  maxconn 1\x002\n", "t.cfg:2: stray NUL character at position 12"},
		{"NUL byte in a comment", "global\n# a\x00\n", "t.cfg:2: stray NUL character at position 4"},
		{"missing LF", "global\n  maxconn 1", "t.cfg:2: missing LF on last line, file might have been truncated"},
		{"statement before any section", "# c\n\n  maxconn 1\nglobal\n", "t.cfg:3: unknown keyword 'maxconn' out of section"},
		{"section keywords are case-sensitive", "GLOBAL\n", "t.cfg:1: unknown keyword 'GLOBAL' out of section"},
		{"byte order mark", "\xef\xbb\xbfglobal\n", "t.cfg:1: the file starts with a UTF-8 byte order mark, which HAProxy rejects; save it without one"},
		{"first error wins", "global\n kw \"a\n kw \\xZZ\n", "t.cfg:2: unmatched quote at position 5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErr(t, tc.src); got != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestEmptyInput(t *testing.T) {
	for _, src := range []string{"", "\n", "# only a comment\n", "  \t\n\r\n"} {
		f := parseOK(t, src)
		if len(f.Sections) != 0 || len(f.Messages) != 0 {
			t.Errorf("Parse(%q) = %+v, want nothing", src, f)
		}
	}
}

func TestPositionsAndPrefixes(t *testing.T) {
	src := "# header comment\n" +
		"global\n" +
		"  maxconn 100\n" +
		"\n" +
		"defaults\n" +
		"  no option httplog\n" +
		"  default option redispatch\n" +
		"  no\n" +
		"  option no\n" +
		"backend app\n" +
		"  server s1 10.0.0.1:80 check\n"
	f := parseOK(t, src)
	var got []string
	for _, s := range f.Sections {
		got = append(got, fmt.Sprintf("%s %s %q", s.Pos, s.Kind, s.Name))
		for _, st := range s.Statements {
			got = append(got, fmt.Sprintf("  %s %q %s", st.Pos, st.Prefix, strings.Join(st.Words, "|")))
		}
	}
	want := []string{
		`t.cfg:2 global ""`,
		`  t.cfg:3 "" maxconn|100`,
		`t.cfg:5 defaults ""`,
		`  t.cfg:6 "no" option|httplog`,
		`  t.cfg:7 "default" option|redispatch`,
		`  t.cfg:8 "" no`,
		`  t.cfg:9 "" option|no`,
		`t.cfg:10 backend "app"`,
		`  t.cfg:11 "" server|s1|10.0.0.1:80|check`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	st := f.Sections[1].Statements[0]
	if st.Keyword() != "option" || !reflect.DeepEqual(st.Args(), []string{"httplog"}) {
		t.Errorf("Keyword/Args = %q %q", st.Keyword(), st.Args())
	}
}

func TestSectionHeaders(t *testing.T) {
	tests := []struct {
		header string
		kind   string
		name   string
		from   string
		args   []string
	}{
		{"global", "global", "", "", nil},
		{"defaults", "defaults", "", "", nil},
		{"defaults web", "defaults", "web", "", nil},
		{"defaults web from base", "defaults", "web", "base", nil},
		{"defaults from base", "defaults", "", "base", nil},
		{"defaults web extra", "defaults", "web", "", []string{"extra"}},
		{"frontend fe", "frontend", "fe", "", nil},
		{"frontend fe from web", "frontend", "fe", "web", nil},
		{"backend be from web", "backend", "be", "web", nil},
		{"backend be ignored", "backend", "be", "", []string{"ignored"}},
		{"listen stats", "listen", "stats", "", nil},
		{"listen stats from web", "listen", "stats", "web", nil},
		{"listen web 0.0.0.0:80", "listen", "web", "", []string{"0.0.0.0:80"}},
		{`listen web "${HOST}:${PORT}"`, "listen", "web", "", []string{"10.0.0.7:8080"}},
		{"frontend fe :80", "frontend", "fe", "", []string{":80"}},
		{"listen web $HOST:$PORT", "listen", "web", "", []string{"10.0.0.7:8080"}},
		{"backend be $HOST", "backend", "be", "", []string{"$HOST"}},
		{"userlist admins", "userlist", "admins", "", nil},
		{"peers mypeers", "peers", "mypeers", "", nil},
		{"mailers alerts", "mailers", "alerts", "", nil},
		{"resolvers dns", "resolvers", "dns", "", nil},
		{"cache small", "cache", "small", "", nil},
		{"program agent", "program", "agent", "", nil},
		{"http-errors site", "http-errors", "site", "", nil},
		{"ring buf", "ring", "buf", "", nil},
		{"log-forward syslog", "log-forward", "syslog", "", nil},
		{"fcgi-app php", "fcgi-app", "php", "", nil},
		{"namespace_list", "namespace_list", "", "", nil},
		{"global # comment", "global", "", "", nil},
		{"  backend   indented", "backend", "indented", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			f := parseOK(t, "# c\n"+tc.header+"\n  kw 1\n")
			if len(f.Sections) != 1 {
				t.Fatalf("%d sections", len(f.Sections))
			}
			s := f.Sections[0]
			if s.Kind != tc.kind || s.Name != tc.name || s.From != tc.from || !reflect.DeepEqual(s.Args, tc.args) {
				t.Errorf("got kind=%q name=%q from=%q args=%q", s.Kind, s.Name, s.From, s.Args)
			}
			if s.Pos != (Pos{File: "t.cfg", Line: 2}) {
				t.Errorf("Pos = %v", s.Pos)
			}
			if len(s.Statements) != 1 || s.Statements[0].Pos.Line != 3 {
				t.Errorf("statements = %+v", s.Statements)
			}
		})
	}
}

func TestEverySectionKeywordStartsASection(t *testing.T) {
	for _, kw := range SectionKeywords {
		header := kw + " name\n"
		if kw == "global" {
			header = kw + "\n"
		}
		f := parseOK(t, header)
		if len(f.Sections) != 1 || f.Sections[0].Kind != kw {
			t.Errorf("%q: sections %+v", kw, f.Sections)
		}
		if !IsSectionKeyword(kw) {
			t.Errorf("IsSectionKeyword(%q) = false", kw)
		}
	}
	for _, kw := range []string{"spoe-agent", "crt-store", "Global", "server"} {
		if IsSectionKeyword(kw) {
			t.Errorf("IsSectionKeyword(%q) = true", kw)
		}
	}
}

func TestSectionHeaderErrors(t *testing.T) {
	tests := []struct {
		header string
		want   string
	}{
		{"frontend", "'frontend' expects an <id> argument"},
		{"backend", "'backend' expects an <id> argument"},
		{"listen", "'listen' expects an <id> argument"},
		{"userlist", "'userlist' expects <name> as arguments"},
		{"peers", "missing name for peers section"},
		{"mailers", "missing name for mailers section"},
		{"resolvers", "missing name for resolvers section"},
		{"cache", "'cache' expects a <name> argument"},
		{"program", "'program' expects an <id> argument"},
		{"http-errors", "missing name for http-errors section"},
		{"ring", "missing ring name"},
		{"log-forward", "missing name for log-forward section"},
		{"fcgi-app", "'fcgi-app' expects <name> as argument"},
		{"global extra", "'global' cannot handle unexpected argument 'extra'"},
		{"userlist u extra", "'userlist' cannot handle unexpected argument 'extra'"},
		{"peers p extra", "'peers' cannot handle unexpected argument 'extra'"},
		{"cache c extra", "'cache' cannot handle unexpected argument 'extra'"},
		{"program p extra", "'program' cannot handle unexpected argument 'extra'"},
		{"log-forward l extra", "'log-forward' cannot handle unexpected argument 'extra'"},
		{"fcgi-app f extra", "'fcgi-app' cannot handle unexpected argument 'extra'"},
		{"frontend f from d extra", "'frontend' cannot handle unexpected argument 'extra'"},
		{"defaults d from b extra", "'defaults' cannot handle unexpected argument 'extra'"},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			got := parseErr(t, "global\n"+tc.header+"\n")
			if want := "t.cfg:2: " + tc.want; got != want {
				t.Errorf("got %s\nwant %s", got, want)
			}
		})
	}
}

func TestSetenvOverlay(t *testing.T) {
	src := "global\n" +
		"  setenv X one\n" +
		"  presetenv X ignored\n" +
		"  presetenv Y two\n" +
		"  kw \"$X-$Y-$A\"\n" + // 5
		"  unsetenv X A\n" +
		"  kw \"[$X][$A][$Y]\"\n" + // 7
		"  setenv X three\n" +
		"  resetenv X NOTSET\n" +
		"  kw \"[$X][$Y][$HOST]\"\n" + // 10
		"  setenv A back\n" +
		"  no setenv A never\n" +
		"  setenv A far too many\n" +
		"  setenv B set ignored\n" +
		"  kw \"$A $B\"\n" +
		"frontend f\n" +
		"  setenv A frontend\n" +
		"  kw \"$A\"\n"
	f := parseOK(t, src)
	var got []string
	for _, s := range f.Sections {
		for _, st := range s.Statements {
			if st.Keyword() == "kw" {
				got = append(got, st.Words[1])
			}
		}
	}
	want := []string{"one-two-alpha", "[][][two]", "[three][][]", "back set", "back"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// The environment statements are still reported.
	if n := len(f.Sections[0].Statements); n != 14 {
		t.Errorf("global has %d statements, want 14", n)
	}
	// The caller's environment is untouched.
	if testEnv["A"] != "alpha" {
		t.Errorf("caller's environment modified")
	}
}

func TestSetenvInSkippedBlockIgnored(t *testing.T) {
	f := parseOK(t, "global\n.if 0\n  setenv A skipped\n.endif\n  kw \"$A\"\n")
	if got := f.Sections[0].Statements[0].Words[1]; got != "alpha" {
		t.Errorf("got %q, want alpha", got)
	}
}

func TestUnquotedAddressExpansion(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"server s1 ${HOST}:80 check", []string{"server", "s1", "10.0.0.7:80", "check"}},
		{"server s1 $HOST:$PORT", []string{"server", "s1", "10.0.0.7:8080"}},
		{"server s1 '$HOST':80", []string{"server", "s1", "10.0.0.7:80"}},
		{"server s1 $NOPE:80", []string{"server", "s1", ":80"}},
		{"server s1 $NOPE$EMPTY:80", []string{"server", "s1", ":80"}},
		{"server s1 ${HOST-x}:80", []string{"server", "s1", "10.0.0.7-x}:80"}},
		{"server s1 ${HOST:80", []string{"server", "s1", "10.0.0.7:80"}},
		{"server s1 ab$:80", []string{"server", "s1", "ab:80"}},
		{`server s1 "$DOLLAR"`, []string{"server", "s1", "xalpha"}},
		{"server s1 h:80 addr $HOST source $HOST usesrc $HOST socks4 $HOST:1 weight $PORT", []string{"server", "s1", "h:80", "addr", "10.0.0.7", "source", "10.0.0.7", "usesrc", "10.0.0.7", "socks4", "10.0.0.7:1", "weight", "$PORT"}},
		{"server $HOST addr", []string{"server", "$HOST", "addr"}},
		{"server-template web 3 $HOST:80", []string{"server-template", "web", "3", "10.0.0.7:80"}},
		{"default-server addr $HOST inter $PORT", []string{"default-server", "addr", "10.0.0.7", "inter", "$PORT"}},
		{"bind $HOST:$PORT,:${PORT} name $A", []string{"bind", "10.0.0.7:8080,:8080", "name", "$A"}},
		{"source $HOST usesrc ${HOST}", []string{"source", "10.0.0.7", "usesrc", "10.0.0.7"}},
		{"log $HOST:514 local0", []string{"log", "10.0.0.7:514", "local0"}},
		{"dgram-bind $HOST:514", []string{"dgram-bind", "10.0.0.7:514"}},
		{"peer p1 $HOST:1024", []string{"peer", "p1", "10.0.0.7:1024"}},
		{"nameserver ns $HOST:53", []string{"nameserver", "ns", "10.0.0.7:53"}},
		{"mailer m $HOST:25", []string{"mailer", "m", "10.0.0.7:25"}},
		{"stats socket $HOST:9999 level $A", []string{"stats", "socket", "10.0.0.7:9999", "level", "$A"}},
		{"stats uri $A", []string{"stats", "uri", "$A"}},
		{"http-request set-header X $HOST", []string{"http-request", "set-header", "X", "$HOST"}},
		{"no log $HOST", []string{"log", "10.0.0.7"}},
		{"bind", []string{"bind"}},
		{"server s1", []string{"server", "s1"}},
		{"server-template s 3", []string{"server-template", "s", "3"}},
		{"stats socket", []string{"stats", "socket"}},
		{"default-server addr", []string{"default-server", "addr"}},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			if got := lineWords(t, tc.line); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEmptyAddress(t *testing.T) {
	got := parseErr(t, "backend b\n  server s1 ${NOPE}${EMPTY}\n")
	want := "t.cfg:2: 'server': '${NOPE}${EMPTY}' resolves to an empty address (environment variable missing?)"
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestConditions(t *testing.T) {
	tests := []struct {
		cond string
		want bool
	}{
		{"", false},
		{"1", true},
		{"0", false},
		{"2", true},
		{"-1", true},
		{"0x10", true},
		{"0x0", false},
		{"00", false},
		{"010", true},
		{`"1"`, true},
		{"defined(A)", true},
		{"defined(EMPTY)", true},
		{"defined(NOPE)", false},
		{"defined()", false},
		{"defined(.FILE)", false},
		{"!defined(NOPE)", true},
		{"!!1", true},
		{"! ( 0 )", true},
		{"feature(OPENSSL)", true},
		{"feature(OPENSSL)&&1", true},
		{"feature(openssl)", false},
		{"feature(LUA)", false},
		{"feature(PCRE2)", false},
		{"streq(a,a)", true},
		{"streq(a, a)", false},
		{"streq(a,a )", false},
		{`streq("a b","a b")`, true},
		{`'streq("a,b","a,b")'`, true},
		{`streq("$A",alpha)`, true},
		{"streq($A,alpha)", false},
		{"strneq(a,b)", true},
		{"strneq(a,a)", false},
		{"version_atleast(2.6)", true},
		{"version_atleast(2.6.12)", true},
		{"version_atleast(2.6.13)", false},
		{"version_atleast(2.7)", false},
		{"version_atleast(2.7-dev0)", false},
		{"version_atleast(2.6-dev1)", true},
		{"version_atleast(2.5)", true},
		{"version_atleast(3.0)", false},
		{"version_atleast(1.8.30)", true},
		{"version_atleast(abc)", true},
		{"version_atleast()", true},
		{"version_before(2.7)", true},
		{"version_before(2.6)", false},
		{"version_before(abc)", false},
		{"version_before(3)", true},
		{"defined(A) && 0", false},
		{"0 || 1", true},
		{"(0 || 1) && 1", true},
		{"1 || 0 && 0", true},
		{"0 && 1 || 1", true},
		{"0 && (1 || 1)", false},
		{"((((1))))", true},
	}
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			src := "global\n.if " + tc.cond + "\n  kw then\n.else\n  kw else\n.endif\n"
			f := parseOK(t, src)
			got := f.Sections[0].Statements[0].Words[1] == "then"
			if got != tc.want {
				t.Errorf(".if %s = %v, want %v", tc.cond, got, tc.want)
			}
		})
	}
}

func TestConditionErrors(t *testing.T) {
	tests := []struct {
		cond string
		want string
	}{
		{"foo", "unparsable conditional expression 'foo' in '.if' at position 1"},
		{"true", "unparsable conditional expression 'true' in '.if' at position 1"},
		{"strstr(abc,b)", "unparsable conditional expression 'strstr(abc,b)' in '.if' at position 1"},
		{"defined", "unparsable conditional expression 'defined' in '.if' at position 1"},
		{"1x", "unexpected character 'x' at the end of conditional expression '1x' in '.if' at position 2"},
		{"1 1", "unexpected character '1' at the end of conditional expression '1 1' in '.if' at position 3"},
		{"1)", "unexpected character ')' at the end of conditional expression '1)' in '.if' at position 2"},
		{"1 &&", "unparsable conditional expression '' in '.if' at position 5"},
		{"(1", "expected ')' after conditional expression '(1' in '.if' at position 1"},
		{"defined(A", "expected ')' in argument 1 of predicate 'defined' in '.if' at position 10"},
		{"defined(a,b)", "expected ')' before ',b)' in argument 1 of predicate 'defined' in '.if' at position 10"},
		{"streq(a)", "missing arguments (got 1/2) of predicate 'streq' in '.if' at position 9"},
		{`streq(a\,b,a\,b)`, `expected ')' before ',a\,b)' in argument 2 of predicate 'streq' in '.if' at position 11`},
		{"-", "unparsable conditional expression '-' in '.if' at position 1"},
		{strings.Repeat("(", 70) + "1" + strings.Repeat(")", 70), "too many nested parentheses in conditional expression (at most 64) in '.if' at position 65"},
	}
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			got := parseErr(t, "global\n.if "+tc.cond+"\n.endif\n")
			if want := "t.cfg:2: " + tc.want; got != want {
				t.Errorf("got %s\nwant %s", got, want)
			}
		})
	}
}

func TestConditionalBlocks(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string // values of the kw lines kept
	}{
		{"if taken", ".if 1\nkw a\n.endif\nkw b\n", []string{"a", "b"}},
		{"if dropped", ".if 0\nkw a\n.endif\nkw b\n", []string{"b"}},
		{"elif taken", ".if 0\nkw a\n.elif 1\nkw b\n.else\nkw c\n.endif\n", []string{"b"}},
		{"else taken", ".if 0\nkw a\n.elif 0\nkw b\n.else\nkw c\n.endif\n", []string{"c"}},
		{"first true branch only", ".if 1\nkw a\n.elif 1\nkw b\n.else\nkw c\n.endif\n", []string{"a"}},
		{"second elif", ".if 0\n.elif 0\nkw b\n.elif 1\nkw c\n.elif 1\nkw d\n.endif\n", []string{"c"}},
		{"elif after taken branch is not evaluated", ".if 1\nkw a\n.elif foo\n.endif\n", []string{"a"}},
		{"nested in dropped block is not evaluated", ".if 0\n.if foo\nkw a\n.else\nkw b\n.endif\n.endif\n", nil},
		{"nested taken", ".if 1\n.if 0\nkw a\n.else\nkw b\n.endif\nkw c\n.endif\n", []string{"b", "c"}},
		{"skipped block ignores directives and empty words", ".if 0\n.foo\n.alert \"x\"\nkw \"\" x\n.endif\n", nil},
		{"sections inside blocks", ".if 0\nbackend hidden\nkw a\n.endif\nkw b\n", []string{"b"}},
		{"bare if is false", ".if\nkw a\n.else\nkw b\n.endif\n", []string{"b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := parseOK(t, "global\n"+tc.body)
			var got []string
			for _, s := range f.Sections {
				for _, st := range s.Statements {
					got = append(got, st.Words[1])
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConditionalErrors(t *testing.T) {
	deep := strings.Repeat(".if 1\n", 100)
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"lone endif", "global\n.endif\n", "t.cfg:2: lone '.endif' with no matching '.if'"},
		{"lone else", "global\n.else\n", "t.cfg:2: lone '.else' with no matching '.if'"},
		{"lone elif", "global\n.elif 1\n", "t.cfg:2: lone '.elif' with no matching '.if'"},
		{"else after else", "global\n.if 1\n.else\n.else\n.endif\n", "t.cfg:4: '.else' after '.else' is not permitted"},
		{"elif after else", "global\n.if 1\n.else\n.elif 1\n.endif\n", "t.cfg:4: '.elif' after '.else' is not permitted"},
		{"unterminated reported at its opening line", "global\n.if 1\n.if 0\n.endif\nkw\n", "t.cfg:2: non-terminated '.if' block"},
		{"innermost unterminated", "global\n.if 1\n.endif\n.if 0\n.if 1\n.endif\n", "t.cfg:4: non-terminated '.if' block"},
		{"endif argument", "global\n.if 1\n.endif x\n", "t.cfg:3: Unexpected argument 'x' for '.endif'"},
		{"else argument", "global\n.if 1\n.else x\n.endif\n", "t.cfg:3: Unexpected argument 'x' for '.else'"},
		{"bad elif evaluated", "global\n.if 0\n.elif foo\n.endif\n", "t.cfg:3: unparsable conditional expression 'foo' in '.elif' at position 1"},
		{"tokenizer errors in skipped blocks", "global\n.if 0\nkw \"a\n.endif\n", "t.cfg:3: unmatched quote at position 4"},
		{"nesting limit", "global\n" + deep, "t.cfg:101: too many nested '.if', max is 100"},
		{"unknown directive", "global\n.foo\n", "t.cfg:2: unknown directive '.foo'"},
		{"alert", "global\n.alert \"stop here\"\n", "t.cfg:2: .alert: stop here"},
		{"message with two words", "global\n.warning a b\n", "t.cfg:2: Unexpected argument 'b' for '.warning'. Use quotes if the message should contain spaces"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErr(t, tc.src); got != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
	// 99 nested blocks are fine.
	parseOK(t, "global\n"+strings.Repeat(".if 1\n", 99)+strings.Repeat(".endif\n", 99))
}

func TestMessages(t *testing.T) {
	src := ".notice \"before sections\"\n" +
		"global\n" +
		"  .warning \"in ${.SECTION} at ${.LINE}\"\n" +
		".if 0\n" +
		"  .warning \"hidden\"\n" +
		".endif\n" +
		".diag 'diagnostic'\n" +
		".notice\n" +
		".notice x \"\"\n"
	f := parseOK(t, src)
	want := []Message{
		{Pos{"t.cfg", 1}, LevelNotice, "before sections"},
		{Pos{"t.cfg", 3}, LevelWarning, "in global at 3"},
		{Pos{"t.cfg", 7}, LevelDiag, "diagnostic"},
		{Pos{"t.cfg", 8}, LevelNotice, ""},
		{Pos{"t.cfg", 9}, LevelNotice, "x"},
	}
	if !reflect.DeepEqual(f.Messages, want) {
		t.Errorf("got %+v\nwant %+v", f.Messages, want)
	}
}

func TestPseudoSection(t *testing.T) {
	src := "kwless\n"
	if got := parseErr(t, src); got != "t.cfg:1: unknown keyword 'kwless' out of section" {
		t.Errorf("got %s", got)
	}
	f := parseOK(t, ".notice \"[${.SECTION}]\"\ndefaults\n.notice \"${.SECTION}\"\ndefaults web\n.notice \"${.SECTION}\"\nfrontend \"${.SECTION}-fe\"\ndefaults from base\n.notice \"${.SECTION}\"\n")
	var got []string
	for _, m := range f.Messages {
		got = append(got, m.Text)
	}
	if want := []string{"[]", "defaults", "web", "from"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if name := f.Sections[2].Name; name != "web-fe" {
		t.Errorf("header sees the previous section: got %q", name)
	}
}

func TestNilEnvironment(t *testing.T) {
	f, err := Parse("t.cfg", []byte("global\n  kw \"x$HOME\"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Sections[0].Statements[0].Words[1]; got != "x" {
		t.Errorf("got %q, want x", got)
	}
}

func TestExpansionBudget(t *testing.T) {
	env := mapEnv(map[string]string{"BIG": strings.Repeat("v", 1<<20)})
	line := "  kw \"" + strings.Repeat("$BIG", 60) + "\"\n"
	// 60 MiB fits in the budget.
	if _, err := Parse("t.cfg", []byte("global\n"+line), env); err != nil {
		t.Fatalf("one line: %v", err)
	}
	// Another 60 MiB does not: the budget is per file.
	_, err := Parse("t.cfg", []byte("global\n"+line+line), env)
	want := "t.cfg:3: environment variables expand to more than 67108864 bytes in this file"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestLargeInputs parses a very long line and a file of many lines. The
// work is linear, so both take well under a second; anything quadratic
// would run for hours and hit the test timeout.
func TestLargeInputs(t *testing.T) {
	long := "backend b\n  kw \"" + strings.Repeat(`a\x41 '$A${A}\"`, 1<<18) + "\"\n"
	f := parseOK(t, long)
	if n := len(f.Sections[0].Statements[0].Words[1]); n != (1<<18)*len(`aA 'alphaalpha"`) {
		t.Errorf("long word has %d bytes", n)
	}

	var b strings.Builder
	b.WriteString("backend b\n")
	for range 200000 {
		b.WriteString("  server s \"${A}\":80 check # comment\n")
	}
	f = parseOK(t, b.String())
	if n := len(f.Sections[0].Statements); n != 200000 {
		t.Errorf("%d statements", n)
	}
	if last := f.Sections[0].Statements[199999]; last.Pos.Line != 200001 || last.Words[2] != "alpha:80" {
		t.Errorf("last statement %+v", last)
	}

	// Deeply nested negations and parentheses stay bounded.
	parseOK(t, "global\n.if "+strings.Repeat("!", 1<<20)+"1\n.endif\n")
	parseErr(t, "global\n.if "+strings.Repeat("(", 1<<20)+"\n.endif\n")
}
