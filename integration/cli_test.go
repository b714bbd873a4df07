package integration

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateRejectsBadConfig checks that `caddy validate` fails on a
// broken haproxy.cfg and that the message names file:line and the keyword.
func TestValidateRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		file string
		// bad is the text of the faulty line, to find its number.
		bad string
		// want are further texts the message must contain.
		want []string
	}{
		{"unknown_keyword.cfg", "balanse roundrobin", []string{"balanse", "did you mean 'balance'"}},
		{"bad_server_option.cfg", "wieght 5", []string{"wieght", "did you mean 'weight'"}},
		{"bad_timeout.cfg", "timeout connect 5xs", []string{"timeout connect", "5xs"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			line := lineOf(t, filepath.Join("testdata", tc.file), tc.bad)
			stdout, stderr, code := runCaddyCommand(t, "testdata", "validate", "--adapter", "haproxy", "--config", tc.file)
			if code == 0 {
				t.Fatalf("caddy validate exited 0 on %s; output:\n%s%s", tc.file, stdout, stderr)
			}
			out := stdout + stderr
			for _, e := range logEntries(stderr) {
				out += "\n" + e.Msg
			}
			// Quotes differ between messages ('x' or "x"): compare without them.
			unquote := strings.NewReplacer(`"`, "", "'", "")
			for _, want := range append([]string{fmt.Sprintf("%s:%d", tc.file, line)}, tc.want...) {
				if !strings.Contains(unquote.Replace(out), unquote.Replace(want)) {
					t.Errorf("the output does not contain %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestValidateAcceptsGoodConfig(t *testing.T) {
	stdout, stderr, code := runCaddyCommand(t, "testdata", "validate", "--adapter", "haproxy", "--config", "good.cfg")
	if code != 0 {
		t.Fatalf("caddy validate exited %d on good.cfg:\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "Valid configuration") {
		t.Errorf("caddy validate did not say the config is valid:\n%s", stdout)
	}
}

// TestAdaptPrintsJSONAndWarnings checks `caddy adapt`: Caddy JSON on
// stdout, and a warning with file and line for the global keywords that have
// no effect in Caddy.
func TestAdaptPrintsJSONAndWarnings(t *testing.T) {
	stdout, stderr, code := runCaddyCommand(t, "testdata", "adapt", "--adapter", "haproxy", "--config", "good.cfg")
	if code != 0 {
		t.Fatalf("caddy adapt exited %d:\n%s", code, stderr)
	}
	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Listen []string `json:"listen"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal([]byte(stdout), &cfg); err != nil {
		t.Fatalf("stdout is not Caddy JSON: %v\n%s", err, stdout)
	}
	listens := 0
	for _, srv := range cfg.Apps.HTTP.Servers {
		for _, l := range srv.Listen {
			listens++
			if !strings.Contains(l, "127.0.0.1:18080") {
				t.Errorf("unexpected listen address %q", l)
			}
		}
	}
	if listens != 1 {
		t.Errorf("want one HTTP listener on 127.0.0.1:18080, got %d in:\n%s", listens, stdout)
	}

	daemonLine := lineOf(t, "testdata/good.cfg", "daemon")
	found := false
	for _, w := range adapterWarnings(stderr) {
		if w.File == "good.cfg" && w.Line == daemonLine && strings.Contains(w.Msg, "daemon") {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning for good.cfg:%d (daemon) on stderr:\n%s", daemonLine, stderr)
	}
}
