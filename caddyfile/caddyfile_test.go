package caddyfile

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/mholt/caddy-l4/layer4"

	_ "github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
)

// bcryptHash matches a bcrypt hash in JSON.
var bcryptHash = regexp.MustCompile(`\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}`)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// adapt runs Caddy's Caddyfile adapter on body.
func adapt(t *testing.T, filename string, body []byte) ([]byte, error) {
	t.Helper()
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(body, map[string]any{"filename": filename})
	return out, err
}

// TestAdaptGolden adapts every testdata/*.caddyfile and compares the JSON
// with the .json file beside it. The JSON must also load into Caddy's
// config structure without unknown fields and pass caddy.Validate, which
// provisions every module.
func TestAdaptGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.caddyfile")
	if len(files) == 0 {
		t.Fatal("no golden Caddyfiles")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".caddyfile")
		t.Run(name, func(t *testing.T) {
			input, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out, err := adapt(t, filepath.Base(file), input)
			if err != nil {
				t.Fatalf("adapt: %v", err)
			}
			var indented bytes.Buffer
			if err := json.Indent(&indented, out, "", "\t"); err != nil {
				t.Fatal(err)
			}
			indented.WriteByte('\n')
			out = indented.Bytes()
			// bcrypt salts each hash; TestStatsAuthHash checks them.
			shown := bcryptHash.ReplaceAll(out, []byte("<bcrypt hash>"))
			base := strings.TrimSuffix(file, ".caddyfile")
			if *update {
				if err := os.WriteFile(base+".json", shown, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(base + ".json")
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(shown) != string(want) {
				t.Errorf("JSON differs from %s.json (run go test -update after checking the change)\ngot:\n%s", base, shown)
			}
			var cfg caddy.Config
			if err := caddy.StrictUnmarshalJSON(out, &cfg); err != nil {
				t.Fatalf("output is not a Caddy config: %v", err)
			}
			cfg.Admin = &caddy.AdminConfig{Disabled: true}
			if err := caddy.Validate(&cfg); err != nil {
				t.Errorf("the adapted config does not provision: %v", err)
			}
		})
	}
}
