package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
)

// findCorpus looks for shared/corpus in the test's directory and its
// parents: CI keeps it beside the repository (../shared/corpus from the
// repository root).
func findCorpus() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		c := filepath.Join(dir, "shared", "corpus")
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// TestCorpus runs every real-world configuration of the corpus through
// lex.Parse and Build: none may panic, and every diagnostic must name a
// position. It logs how many build without error and the commonest errors.
func TestCorpus(t *testing.T) {
	dir := findCorpus()
	if dir == "" {
		t.Skip("shared/corpus not found beside the repository")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.cfg"))
	if err != nil || len(files) == 0 {
		t.Skipf("no corpus files in %s", dir)
	}
	// Messages are grouped without their quoted specifics.
	quoted := regexp.MustCompile(`'[^']*'|"[^"]*"`)
	var clean, onlyRefused, lexFailed int
	counts := map[string]int{}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		f, err := lex.Parse(name, data, func(string) (string, bool) { return "", false })
		if err != nil {
			lexFailed++
			counts["lex: "+quoted.ReplaceAllString(err.Error()[strings.Index(err.Error(), ": ")+2:], "…")]++
			continue
		}
		var cfg *Config
		var diags []Diagnostic
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: Build panicked: %v", name, r)
				}
			}()
			cfg, diags = Build(f)
		}()
		if cfg == nil {
			continue
		}
		errs, refusals := 0, 0
		for _, d := range diags {
			if d.Pos.File == "" || d.Pos.Line == 0 {
				t.Errorf("%s: diagnostic without a position: %s", name, d.Error())
			}
			if d.Severity == Error {
				errs++
				if strings.Contains(d.Message, "not supported:") {
					refusals++
				}
				msg := d.Message
				if d.Keyword != "" {
					msg = d.Keyword + ": " + msg
				}
				counts[quoted.ReplaceAllString(msg, "…")]++
			}
		}
		switch {
		case errs == 0:
			clean++
		case errs == refusals:
			onlyRefused++
		}
	}
	type kv struct {
		msg string
		n   int
	}
	var top []kv
	for m, n := range counts {
		top = append(top, kv{m, n})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n || top[i].n == top[j].n && top[i].msg < top[j].msg })
	var sb strings.Builder
	fmt.Fprintf(&sb, "corpus: %d files: %d build without error, %d fail only on keywords refused by status, %d fail in lex.Parse\n",
		len(files), clean, onlyRefused, lexFailed)
	for i, e := range top {
		if i == 15 {
			break
		}
		fmt.Fprintf(&sb, "%5d  %s\n", e.n, e.msg)
	}
	t.Log(sb.String())
}
