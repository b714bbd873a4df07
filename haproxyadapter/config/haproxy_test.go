package config

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeywordTableCoversHAProxy asks the installed HAProxy for the
// configuration keywords it registers ("haproxy -dKcfg") and checks that
// the table knows each of them, in the right place and, for bind and
// server parameters, with the right number of arguments.
func TestKeywordTableCoversHAProxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not installed; CI installs it")
	}
	empty := filepath.Join(t.TempDir(), "empty.cfg")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(bin, "-dKcfg", "-q", "-c", "-f", empty).CombinedOutput()
	if !bytes.Contains(out, []byte("List of registered configuration keywords")) {
		t.Skipf("this haproxy cannot list its keywords (-dKcfg): %.200s", out)
	}
	section := ""
	checked := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		if !strings.HasPrefix(line, "\t") {
			section = strings.TrimSpace(line)
			continue
		}
		fields := strings.Fields(line)
		checked++
		switch section {
		case "global":
			if _, ok := LookupKeyword("global", fields); !ok && !hasFamily(InGlobal, fields[0]) {
				t.Errorf("global keyword %q missing", fields[0])
			}
		case "listen":
			checkProxyKeyword(t, fields)
		}
	}
	if checked < 300 {
		t.Errorf("only %d keywords listed; the output format may have changed:\n%.500s", checked, out)
	}
}

func checkProxyKeyword(t *testing.T, fields []string) {
	t.Helper()
	arity := func(rest []string) (string, int, bool) {
		name := rest[0]
		switch {
		case len(rest) == 1:
			return name, 0, true
		case rest[1] == "+1":
			return name, 1, true
		default:
			return name, 0, false // "+-1": variable
		}
	}
	switch fields[0] {
	case "bind":
		rest := fields[2:]
		if rest[0] == "ssl" && len(rest) > 1 {
			rest = rest[1:]
		}
		name, n, fixed := arity(rest)
		k, ok := LookupKeyword("bind", []string{name})
		if !ok || fixed && k.Args != n {
			t.Errorf("bind parameter %q (%d arguments): got %+v", name, n, k)
		}
	case "server":
		name, n, fixed := arity(fields[3:])
		k, ok := LookupKeyword("server", []string{name})
		// "usesrc" is registered alone but only valid after "source".
		if !ok || fixed && k.Args != n && name != "usesrc" {
			t.Errorf("server parameter %q (%d arguments): got %+v", name, n, k)
		}
	case "option", "tcp-request", "tcp-response", "http-request", "http-response", "http-after-response":
		if len(fields) == 1 {
			if !hasFamily(InListen, fields[0]) {
				t.Errorf("proxy keyword %q missing", fields[0])
			}
			return
		}
		words := fields
		if fields[0] == "option" {
			words = fields[:2]
		}
		if last := len(words) - 1; strings.HasSuffix(words[last], "*") {
			words[last] = strings.TrimSuffix(words[last], "*")
		}
		k, ok := LookupKeyword("listen", words)
		if !ok || k.Name != keywordName(words) {
			t.Errorf("%q: got %+v", strings.Join(words, " "), k)
		}
	default:
		// A first word: the table must hold it or keywords starting with it.
		if k, ok := LookupKeyword("listen", fields[:1]); ok && k.Name == fields[0] {
			return
		}
		if !hasFamily(InListen, fields[0]) {
			t.Errorf("proxy keyword %q missing", fields[0])
		}
	}
}

// hasFamily reports whether the table has keywords "<first> …" in scope.
func hasFamily(scope Scope, first string) bool {
	for _, k := range Keywords() {
		if strings.HasPrefix(k.Name, first+" ") && k.Sections&scope != 0 {
			return true
		}
	}
	return false
}
