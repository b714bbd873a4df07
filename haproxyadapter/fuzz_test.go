package haproxyadapter

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// FuzzAdapt checks that the adapter never panics, that every error names
// a line of the input file, and that a config it produces is valid Caddy
// JSON. The seeds are the golden and refusal test configs.
func FuzzAdapt(f *testing.F) {
	for _, dir := range []string{"testdata/adapt", "testdata/refuse"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.cfg"))
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := Adapter{}.Adapt(data, map[string]any{"filename": "fuzz.cfg"})
		if err != nil {
			var diags diagnosticsError
			if !errors.As(err, &diags) {
				t.Fatalf("error %T is not a list of diagnostics: %v", err, err)
			}
			for _, d := range diags {
				if d.Pos.File != "fuzz.cfg" || d.Pos.Line < 0 {
					t.Fatalf("diagnostic without a position in the input: %v", d)
				}
				if d.Message == "" {
					t.Fatalf("diagnostic without a message at %v", d.Pos)
				}
			}
			return
		}
		var cfg caddy.Config
		if err := json.Unmarshal(out, &cfg); err != nil {
			t.Fatalf("the output is not a Caddy config: %v", err)
		}
	})
}
