package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/compatibility.md from the keyword table")

// TestCompatibilityDoc keeps docs/compatibility.md in step with the keyword
// table: with -update it rewrites the file, otherwise it fails when the
// file differs from what the table produces.
func TestCompatibilityDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "compatibility.md")
	want := CompatibilityMarkdown()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./haproxyadapter/config -run TestCompatibilityDoc -update)", err)
	}
	if string(got) != want {
		t.Fatalf("%s is out of date with the keyword table; run: go test ./haproxyadapter/config -run TestCompatibilityDoc -update", path)
	}
}
