package haproxyadapter

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/adapt")

// TestAdaptGolden adapts every testdata/adapt/*.cfg and compares the JSON
// and the warnings with the .json and .warnings files beside it. The JSON
// must also load into Caddy's config structure without unknown fields.
func TestAdaptGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/adapt/*.cfg")
	if len(files) == 0 {
		t.Fatal("no golden configs")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".cfg")
		t.Run(name, func(t *testing.T) {
			input, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out, warnings, err := Adapter{}.Adapt(input, map[string]any{"filename": filepath.Base(file)})
			if err != nil {
				t.Fatalf("adapt: %v", err)
			}
			var warnText bytes.Buffer
			for _, w := range warnings {
				warnText.WriteString(w.String() + "\n")
			}
			base := strings.TrimSuffix(file, ".cfg")
			if *update {
				must(t, os.WriteFile(base+".json", append(out, '\n'), 0o644))
				must(t, os.WriteFile(base+".warnings", warnText.Bytes(), 0o644))
				return
			}
			wantJSON, err := os.ReadFile(base + ".json")
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got := string(out) + "\n"; got != string(wantJSON) {
				t.Errorf("JSON differs from %s.json (run go test -update after checking the change)\ngot:\n%s", base, got)
			}
			wantWarn, _ := os.ReadFile(base + ".warnings")
			if warnText.String() != string(wantWarn) {
				t.Errorf("warnings differ from %s.warnings\ngot:\n%s\nwant:\n%s", base, warnText.String(), wantWarn)
			}
			var cfg caddy.Config
			if err := caddy.StrictUnmarshalJSON(out, &cfg); err != nil {
				t.Errorf("output is not a Caddy config: %v", err)
			}
		})
	}
}

// TestAdaptRefused checks that every testdata/refuse/*.cfg is refused with
// the error its first line announces ("# error: <text>"), naming the file
// and line.
func TestAdaptRefused(t *testing.T) {
	files, _ := filepath.Glob("testdata/refuse/*.cfg")
	if len(files) == 0 {
		t.Fatal("no refused configs")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".cfg"), func(t *testing.T) {
			input, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(input), "\n")
			want, ok := strings.CutPrefix(first, "# error: ")
			if !ok {
				t.Fatalf("first line must be '# error: <expected message>'")
			}
			_, _, err = Adapter{}.Adapt(input, map[string]any{"filename": filepath.Base(file)})
			if err == nil {
				t.Fatalf("adapted, want error %q", want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, want)
			}
		})
	}
}

// TestAdaptCorpus runs the adapter over the real-world configs kept beside
// the repository (../shared/corpus when present): each must adapt or be
// refused with an error naming the file and a line, and nothing may panic.
func TestAdaptCorpus(t *testing.T) {
	dir := findCorpus()
	if dir == "" {
		t.Skip("no corpus directory beside the repository")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.cfg"))
	adapted := 0
	reasons := map[string]int{}
	for _, file := range files {
		input, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(file)
		_, _, err = Adapter{}.Adapt(input, map[string]any{"filename": name})
		if err == nil {
			adapted++
			continue
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, name+":") {
				t.Errorf("%s: error line does not name file:line: %q", name, line)
				continue
			}
			reasons[reasonOf(line)]++
		}
	}
	type kv struct {
		k string
		n int
	}
	var top []kv
	for k, n := range reasons {
		top = append(top, kv{k, n})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n || top[i].n == top[j].n && top[i].k < top[j].k })
	t.Logf("corpus: %d of %d files adapt", adapted, len(files))
	for i, r := range top {
		if i == 15 {
			break
		}
		t.Logf("%4d  %s", r.n, r.k)
	}
}

// reasonOf strips the position and names from an error line so that equal
// refusals group together.
func reasonOf(line string) string {
	parts := strings.SplitN(line, ": ", 3)
	if len(parts) < 3 {
		return line
	}
	msg := parts[1] + ": " + parts[2]
	if i := strings.IndexAny(msg, "\"'"); i > 0 && i < 60 {
		msg = msg[:i]
	}
	if len(msg) > 90 {
		msg = msg[:90]
	}
	return msg
}

func findCorpus() string {
	for _, d := range []string{"../../shared/corpus", "../shared/corpus", "../../../shared/corpus"} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return ""
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ caddyconfig.Adapter = Adapter{}

func TestUnescapeHTML(t *testing.T) {
	for in, want := range map[string]string{
		`"\u003ch1\u003e a \u0026 b"`: `"<h1> a & b"`,
		`"\\u003c"`:                   `"\\u003c"`,
		`"\\\u003c"`:                  `"\\<"`,
		`"x\u003e\u003e"`:             `"x>>"`,
	} {
		if got := string(unescapeHTML([]byte(in))); got != want {
			t.Errorf("unescapeHTML(%s) = %s, want %s", in, got, want)
		}
	}
}
