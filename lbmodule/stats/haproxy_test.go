package stats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/caddy-haproxy/caddy-haproxy/internal/haproxytest"
	"github.com/caddy-haproxy/caddy-haproxy/internal/porttest"
)

// haproxyStats runs haproxy with a stats page and returns a getter for
// URIs under it; it skips the test when haproxy is not installed.
func haproxyStats(t *testing.T, extra string) func(suffix string) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy not installed")
	}
	port := porttest.Free(t)
	addr := porttest.Loopback(port)
	cfg := fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
%s
listen stats
    bind %s
    stats uri /st
`, extra, addr)
	haproxytest.Start(t, haproxytest.Command(t, bin, cfg)).MustListen(t, port)
	get := func(suffix string) (string, error) {
		resp, err := http.Get("http://" + addr + "/st" + suffix)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	return func(suffix string) string {
		s, err := get(suffix)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// The CSV header is HAProxy 2.6's, byte for byte.
func TestCSVHeaderMatchesHAProxy(t *testing.T) {
	get := haproxyStats(t, "")
	line, _, _ := strings.Cut(get(";csv"), "\n")
	if want, got := line+"\n", CSVHeader(); got != want {
		t.Errorf("header differs\n got: %s\nwant: %s", got, want)
	}
}

// Every field's JSON name, position and tags are HAProxy's.
func TestJSONTagsMatchHAProxy(t *testing.T) {
	get := haproxyStats(t, `
backend be
    cookie SRV insert
    server s1 127.0.0.1:1 check maxqueue 7 cookie a agent-check agent-port 1 observe layer7
    server s2 127.0.0.1:1 track s1
`)
	var rows [][]struct {
		ObjType string
		Field   struct {
			Pos  int
			Name string
		}
		Tags  map[string]string
		Value struct{ Type string }
	}
	if err := json.Unmarshal([]byte(get(";json")), &rows); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, row := range rows {
		for _, f := range row {
			var info FieldInfo
			switch pos := f.Field.Pos; {
			case pos < NumFields:
				info = Info(objType(f.ObjType), Field(pos))
			case pos-NumFields < len(ModuleFields):
				info = ModuleFields[pos-NumFields]
			default:
				t.Fatalf("unknown position %d (%s)", pos, f.Field.Name)
			}
			got := FieldInfo{f.Field.Name, f.Tags["origin"], f.Tags["nature"], f.Tags["scope"], f.Value.Type}
			if got != info {
				t.Errorf("field %d: haproxy has %+v, we have %+v", f.Field.Pos, got, info)
			}
			seen++
		}
	}
	if seen == 0 {
		t.Fatal("no fields read")
	}
}

// Our CSV of a stats-only process has the same shape as HAProxy's: the
// header, then rows of the same number of cells.
func TestCSVRowShape(t *testing.T) {
	var sb strings.Builder
	rows := []Row{{}}
	rows[0].Set(FieldPxname, Str(`a,"b"`))
	if err := WriteCSV(&sb, rows); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(sb.String()))
	sc.Scan()
	header := strings.Count(sc.Text(), ",")
	sc.Scan()
	line := sc.Text()
	if !strings.HasPrefix(line, `"a,""b""",`) {
		t.Errorf("quoting: %s", line)
	}
	if n := strings.Count(line, ",") - 1; n != header {
		t.Errorf("row has %d separators, header %d", n, header)
	}
}

func objType(s string) ObjType {
	for _, t := range []ObjType{Frontend, Backend, Server} {
		if t.String() == s {
			return t
		}
	}
	return Listener
}
