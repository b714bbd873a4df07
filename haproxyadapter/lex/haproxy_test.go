package lex

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// These tests run the real HAProxy ("haproxy -c") on small configurations
// and compare what it observably did with what Parse produces. They only
// use the global section and directives, so the only alerts HAProxy can
// print come from reading the file.

// diffEnv is the environment both sides see.
var diffEnv = map[string]string{
	"A":     "alpha",
	"LIST":  "a b  c",
	"EMPTY": "",
	"HOST":  "10.0.0.7",
	"ESC":   `x\x41"y`,
	"ONE":   "1",
	"TRAIL": "1 ",
}

// checkBoth checks cfg with the haproxy binary and with Parse, under the
// same file name and environment, and returns HAProxy's output and
// Parse's result.
func checkBoth(t *testing.T, cfg string) (string, *File, error) {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not found; install HAProxy 2.6 to compare against it")
	}
	path := filepath.Join(t.TempDir(), "d.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", "-f", path)
	cmd.Env = []string{}
	for k, v := range diffEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// The exit status is not useful here: a global-only file always ends
	// with "no listener". The alerts tell what happened.
	out, _ := cmd.CombinedOutput()
	f, perr := Parse(path, []byte(cfg), mapEnv(diffEnv))
	return string(out), f, perr
}

// haproxyRejects reports whether HAProxy printed a parsing alert for line.
func haproxyRejects(out string, line int) bool {
	return regexp.MustCompile(`\[ALERT\].*parsing \[[^\]]*d\.cfg:` + regexp.QuoteMeta(strconv.Itoa(line)) + `\]`).MatchString(out)
}

// noticeText extracts the text HAProxy printed for a ".notice" at line.
func noticeText(out string, line int) (string, bool) {
	m := regexp.MustCompile(`(?s)\[NOTICE\][^\n]*d\.cfg:` + strconv.Itoa(line) + `\]: '(.*?)'\.\n`).FindStringSubmatch(out)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// TestHAProxyWords puts each input after ".notice", which takes exactly one
// word and prints it back, so HAProxy reveals the word it read (or that
// it read more than one).
func TestHAProxyWords(t *testing.T) {
	inputs := []string{
		`plain`,
		`"a b"'c'd`,
		`a\ b`,
		`a\\b`,
		`\x41\x4a\x7e`,
		`"\x41"`,
		`'\x41'`,
		`\$A`,
		`"\$A"`,
		`"$A"`,
		`"${A}x"`,
		`"[$A]"`,
		`"[$Ax]"`,
		`"$A.x"`,
		`'$A'`,
		`$A`,
		`"${NOPE-d e}"`,
		`"${NOPE-\x41'}"`,
		`"x${EMPTY-d}y"`,
		`"${LIST}"`,
		`"$A[*]"`,
		`"${.LINE}:${.FILE}:${.SECTION}"`,
		`"${.LINE-d}"`,
		`"x${.OTHER}y"`,
		`"x$.y"`,
		`"$ESC"`,
		`^/a\.b\d+\1$`,
		`a\#b`,
		`"a#b"`,
		`a#b`,
		`it\'s`,
		`"say \"hi\""`,
		`'say "hi"'`,
		`"it's"`,
		`a\`,
		`a\tb`,
		"caf\xc3\xa9",
		"a\rb c",
		"a \rb",
		"a \v",
		"a\vb",
		`"cost $5"`,
		`"$"`,
		`"${A"`,
		`"${A-x"`,
		`"${A[x]}"`,
		`\xZ1`,
		`ab\x4`,
		`"unterminated`,
		`'unterminated`,
		`"${LIST[*]}"`,
		`"${A[*]}"`,
		`a b`,
		`a ""`,
		`a "$NOPE"`,
		`"" y`,
		`a 'b c'd`,
		`a "${LIST[*]}"`,
		`"${LIST[*]}"x`,
		`a\ b c`,
		"a\tb",
		`a "#" b`,
		`a \# b`,
		`"x" "a\"b" c`,
		`  "x"   "${ESC}"`,
	}
	for _, in := range inputs {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			cfg := "global\n  .notice " + in + "\n"
			out, f, err := checkBoth(t, cfg)
			if err != nil {
				if !haproxyRejects(out, 2) {
					t.Fatalf("Parse rejects (%v), HAProxy accepts:\n%s", err, out)
				}
				sameDetail(t, err.Error(), out)
				return
			}
			if haproxyRejects(out, 2) {
				t.Fatalf("Parse reads %q, HAProxy rejects:\n%s", f.Messages[0].Text, out)
			}
			got, ok := noticeText(out, 2)
			if !ok {
				t.Fatalf("HAProxy printed no notice:\n%s", out)
			}
			if want := f.Messages[0].Text; got != want {
				t.Errorf("HAProxy reads %q, Parse reads %q", got, want)
			}
		})
	}
}

// detailRE finds the parts of an error that must agree between the two:
// the word ".notice" complains about (so the second word is compared
// too), and the column of a tokenizer error.
var detailRE = regexp.MustCompile(`Unexpected argument '(?s:.*?)' for '[^']*'|[a-z][a-z ]* at position \d+`)

// sameDetail checks that HAProxy's output contains the detail of Parse's
// error message, when it has one.
func sameDetail(t *testing.T, parseErr, out string) {
	t.Helper()
	detail := detailRE.FindString(parseErr)
	if detail == "" {
		return
	}
	if !strings.Contains(out, detail) {
		t.Errorf("Parse says %q; HAProxy does not:\n%s", detail, out)
	}
}

// TestHAProxyConditions compares which branch of ".if" each side takes.
func TestHAProxyConditions(t *testing.T) {
	conds := []string{
		"", "1", "0", "-1", "0x10", "00", "1x", "1 1", "(1", "1)", "1 &&",
		"defined(A)", "defined(NOPE)", "defined(EMPTY)", "defined()", "!defined(A)",
		"feature(OPENSSL)", "feature(openssl)", "feature(NOPE)",
		"streq(a,a)", "streq(a, a)", `streq("a b","a b")`, `streq("$A",alpha)`, "streq(a)",
		"strneq(a,b)", "defined(a,b)", "defined(A",
		"version_atleast(2.6)", "version_atleast(2.7)", "version_atleast(2.6-dev1)",
		"version_atleast(2.7-dev0)", "version_before(2.7)", "version_before(2.6)",
		"version_atleast(abc)", "version_before(abc)", "version_atleast(1.8.30)",
		"(0 || 1) && 1", "1 || 0 && 0", "0 && 1 || 1", "! ( 0 )", "!!1",
		"foo", "true", "strstr(abc,b)", "enabled(POLL)",
		"+1", "0x", "-0", "08", "0x1g", "1&&1", "1&1", "1|1", "()", "(", "!", "!(1)", "1 && (0 || !0)",
		"defined(A)&&defined(LIST)", "streq(,)", "streq(a,)", "streq('a,b','a,b')", `'streq("a,b","a,b")'`,
		`'streq("a)","a)")'`, `streq(a\,b,a\,b)`, "version_atleast(2)", "version_before(2.6.12)",
		"version_atleast(2.6.12)", "version_atleast(2.6.13)", "version_atleast(2.6-rc1)", "version_atleast(2.6.x)",
	}
	for _, cond := range conds {
		t.Run(cond, func(t *testing.T) {
			t.Parallel()
			cfg := "global\n.if " + cond + "\n  .notice T\n.else\n  .notice F\n.endif\n"
			out, f, err := checkBoth(t, cfg)
			if err != nil {
				if !haproxyRejects(out, 2) {
					t.Fatalf("Parse rejects (%v), HAProxy accepts:\n%s", err, out)
				}
				return
			}
			_, haveT := noticeText(out, 3)
			_, haveF := noticeText(out, 5)
			if haveT == haveF {
				t.Fatalf("HAProxy output has no single branch:\n%s", out)
			}
			if got := f.Messages[0].Pos.Line == 3; got != haveT {
				t.Errorf("Parse takes then=%v, HAProxy then=%v", got, haveT)
			}
		})
	}
}

// TestHAProxyAcceptance compares only whether each side rejects a file.
func TestHAProxyAcceptance(t *testing.T) {
	files := []struct {
		name string
		cfg  string
		line int // line of the expected alert, when rejected
	}{
		{"NUL byte", "global\n  .notice \"a\x00b\"\n", 2},
		{"missing LF", "global\n  .notice end", 2},
		{"text after CR ignored", "global\n  .notice a\rjunk \"\n", 0},
		{"lone endif", "global\n.endif\n", 2},
		{"else after else", "global\n.if 1\n.else\n.else\n.endif\n", 4},
		{"unknown directive", "global\n.foo\n", 2},
		{"alert", "global\n.alert \"x\"\n", 2},
		{"directives in skipped block", "global\n.if 0\n.foo\n.alert \"x\"\n.endif\n", 0},
		{"quote error in skipped block", "global\n.if 0\n  .notice \"a\n.endif\n", 3},
		{"statement out of section", "maxconn 10\n", 1},
		{"64 words", "global\n.if" + strings.Repeat(" !", 62) + " 1\n.endif\n", 0},
		{"65 words", "global\n.if" + strings.Repeat(" !", 63) + " 1\n.endif\n", 2},
		{"64 words and a blank", "global\n.if" + strings.Repeat(" !", 62) + " 1 \n.endif\n", 2},
		{"64 words and a comment", "global\n.if" + strings.Repeat(" !", 62) + " 1#c\n.endif\n", 0},
		{"64 words from an expansion", "global\n.if" + strings.Repeat(" !", 62) + ` "${ONE[*]}"` + "\n.endif\n", 0},
		{"64 words and a blank from an expansion", "global\n.if" + strings.Repeat(" !", 62) + ` "${TRAIL[*]}"` + "\n.endif\n", 2},
		{"64 words, a blank and a comment", "global\n.if" + strings.Repeat(" !", 62) + " 1 #c\n.endif\n", 2},
		{"99 nested", "global\n" + strings.Repeat(".if 1\n", 99) + strings.Repeat(".endif\n", 99), 0},
		{"100 nested", "global\n" + strings.Repeat(".if 1\n", 100) + strings.Repeat(".endif\n", 100), 101},
		{"global with argument", "global x\n", 1},
		{"frontend without name", "frontend\n", 1},
		{"userlist without name", "userlist\n", 1},
		{"peers with two names", "peers a b\n", 1},
		{"namespace_list is a section", "namespace_list\n", 0},
		{"spoe-agent is not a section", "spoe-agent x\n", 1},
		{"byte order mark", "\xef\xbb\xbfglobal\n", 1},
	}
	for _, tc := range files {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, _, err := checkBoth(t, tc.cfg)
			hRejects := tc.line > 0 && haproxyRejects(out, tc.line)
			if tc.line == 0 && strings.Contains(out, "[ALERT]") {
				t.Fatalf("HAProxy rejects a file expected to pass:\n%s", out)
			}
			if (err != nil) != hRejects {
				t.Fatalf("Parse error %v; HAProxy rejects line %d: %v\n%s", err, tc.line, hRejects, out)
			}
			if err != nil && !strings.Contains(err.Error(), "d.cfg:"+strconv.Itoa(tc.line)+":") {
				t.Errorf("Parse reports %v, HAProxy reports line %d", err, tc.line)
			}
		})
	}
}

// TestHAProxyMessages compares every message of a file with several
// sections, pseudo-variables, setenv overlays and conditional blocks.
func TestHAProxyMessages(t *testing.T) {
	cfg := "# first line\n" +
		".notice \"[${.SECTION-none}]\"\n" +
		"global\n" +
		"  .notice \"${.SECTION}:${.LINE}:$A\"\n" +
		"  setenv A changed\n" +
		"  presetenv HOST ignored\n" +
		"  presetenv NEW new\n" +
		"  .notice \"$A $HOST $NEW\"\n" +
		"  unsetenv A\n" +
		"  .notice \"[$A]\"\n" +
		"  setenv X x ignored\n" +
		"  setenv Y y\n" +
		"  setenv Y too many words\n" +
		"  .notice \"$X $Y\"\n" +
		"  resetenv NEW\n" +
		"  .notice \"[$HOST][$NEW]\"\n" +
		".if defined(NEW) && !defined(HOST)\n" +
		"  .warning \"taken\"\n" +
		".else\n" +
		"  .warning \"not taken\"\n" +
		".endif\n" +
		"defaults\n" +
		"  .notice \"${.SECTION}\"\n" +
		"defaults web\n" +
		"  .notice \"${.SECTION}\"\n" +
		"backend be from web\n" +
		"  .notice \"${.SECTION}\"\n" +
		"userlist users\n" +
		"  .notice \"${.SECTION}\"\n" +
		".if version_atleast(2.6) && version_before(2.7)\n" +
		"  .notice \"2.6\"\n" +
		".elif 1\n" +
		"  .notice \"other\"\n" +
		".endif\n"
	out, f, err := checkBoth(t, cfg)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	// The only alert is for the setenv with two extra words, which
	// package config reports; Parse keeps the statement and leaves Y alone.
	alerts := regexp.MustCompile(`\[ALERT\][^\n]*parsing \[[^\n]*`).FindAllString(out, -1)
	if len(alerts) != 1 || !strings.Contains(alerts[0], "d.cfg:13] : 'setenv' cannot handle unexpected argument 'words'") {
		t.Fatalf("HAProxy alerts %q, want one for line 13:\n%s", alerts, out)
	}
	found := regexp.MustCompile(`\[(NOTICE|WARNING)\][^\n]*d\.cfg:(\d+)\]: '(.*?)'\.\n`).FindAllStringSubmatch(out, -1)
	var got, want []string
	for _, m := range found {
		want = append(want, strings.ToLower(m[1])+" "+m[2]+" "+m[3])
	}
	for _, m := range f.Messages {
		got = append(got, string(m.Level)+" "+strconv.Itoa(m.Pos.Line)+" "+m.Text)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages differ\nParse:\n%s\nHAProxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
