package lex

import (
	"bytes"
	"errors"
	"testing"
)

var fuzzEnv = map[string]string{
	"A":       "alpha",
	"SERVERS": "s1 s2  s3",
	"EMPTY":   "",
	"SPACE":   " x ",
	"DOLLAR":  "$A${A}",
}

// FuzzParse checks that Parse never panics, that every error is an *Error
// naming a real line of the input, and that a successful result is well
// formed.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"global\n",
		"global\n  kw \"a b\"'c'd\\ e\\x41 # c\n",
		"backend b\n  kw \"$A${A}${A-x}${NOPE-y z}${SERVERS[*]}\" \"${.LINE}${.FILE}${.SECTION}\"\n",
		"backend b\n  kw \"\\$\" \\$ '$A' \\\\ \\# \\' \\\" \\t\\n\\r \\d\n",
		"backend b\n  kw \"unterminated\n",
		"backend b\n  kw \\xZZ \\x4\n",
		"backend b\n  kw \"${A\" \"$5\" \"${A[x]}\"\n",
		"backend b\n  kw \"\" x\n  kw x \"\"\n",
		".if defined(A) && (feature(OPENSSL) || !streq(a,b)) && version_atleast(2.6)\nglobal\n.elif 1\n.else\n.endif\n",
		".if ((((1)))\n.endif\n",
		".if 1\n.if 0\n.elif x\n.else\n.endif\n",
		".notice \"x\"\n.warning y\n.diag\n.alert z\n",
		"global\n  setenv X 1\n  presetenv Y 2\n  unsetenv A\n  resetenv X\n  kw \"$X$Y$A\"\n",
		"listen web 0.0.0.0:80\n  server s $A:80 addr ${A} source $A usesrc $A\n",
		"defaults from base\nfrontend f from base\nbackend b x y\n",
		"frontend\n",
		"global\r\n  kw a\r\n",
		"global\n  kw a\x00b\n",
		"global\n  kw",
		"no\ndefault x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		file, err := Parse("fuzz.cfg", data, mapEnv(fuzzEnv))
		if err != nil {
			var lexErr *Error
			if !errors.As(err, &lexErr) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if lexErr.Pos.File != "fuzz.cfg" || lexErr.Pos.Line < 1 || lexErr.Pos.Line > lines {
				t.Fatalf("error position %v outside the %d-line input: %v", lexErr.Pos, lines, err)
			}
			if lexErr.Msg == "" {
				t.Fatalf("error without a message at %v", lexErr.Pos)
			}
			if file != nil {
				t.Fatalf("error with a result")
			}
			return
		}
		last := 0
		for _, sec := range file.Sections {
			if sec.Pos.File != "fuzz.cfg" || sec.Pos.Line <= last || sec.Pos.Line > lines {
				t.Fatalf("section %q at %v after line %d", sec.Kind, sec.Pos, last)
			}
			if !IsSectionKeyword(sec.Kind) {
				t.Fatalf("section kind %q", sec.Kind)
			}
			last = sec.Pos.Line
			for _, st := range sec.Statements {
				if st.Pos.Line <= last || st.Pos.Line > lines {
					t.Fatalf("statement at %v after line %d", st.Pos, last)
				}
				last = st.Pos.Line
				if len(st.Words) == 0 {
					t.Fatalf("statement without words at %v", st.Pos)
				}
				for _, w := range st.Words {
					if w == "" {
						t.Fatalf("empty word at %v: %q", st.Pos, st.Words)
					}
				}
				if st.Prefix != "" && st.Prefix != "no" && st.Prefix != "default" {
					t.Fatalf("prefix %q", st.Prefix)
				}
			}
		}
		for _, m := range file.Messages {
			if m.Pos.Line < 1 || m.Pos.Line > lines {
				t.Fatalf("message at %v", m.Pos)
			}
		}
	})
}
