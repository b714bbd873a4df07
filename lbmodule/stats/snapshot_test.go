package stats

import (
	"strings"
	"testing"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// attach registers a backend for the test.
func attach(t *testing.T, cfg lbmodule.BackendConfig) *lbmodule.Backend {
	t.Helper()
	b, err := lbmodule.AttachBackend(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lbmodule.DetachBackend(b) })
	return b
}

func weight(n int) *int { return &n }

// Server states give HAProxy's status labels, row colours, weights and
// backend figures.
func TestSnapshotServerStates(t *testing.T) {
	b := attach(t, lbmodule.BackendConfig{Backend: "snap", ProxyID: 7, Servers: []lbmodule.ServerConfig{
		{Name: "up", Dial: "127.0.0.1:1", Weight: weight(3)},
		{Name: "drained", Dial: "127.0.0.1:2"},
		{Name: "maint", Dial: "127.0.0.1:3"},
		{Name: "down", Dial: "127.0.0.1:4"},
		{Name: "nolb", Dial: "127.0.0.1:5"},
		{Name: "spare", Dial: "127.0.0.1:6", Backup: true},
	}})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.SetAdminState("drained", lbmodule.AdminDrain))
	must(b.SetAdminState("maint", lbmodule.AdminMaint))
	must(b.SetOperational("down", false))
	must(b.SetStopping("nolb", true))

	rows := Snapshot(Options{Scope: []string{"snap"}, Legends: true})
	want := []struct{ name, status, class, weight, act, bck string }{
		{"up", "no check", "active_no_check", "3", "1", "0"},
		{"drained", "DRAIN", "active_draining", "1", "1", "0"},
		{"maint", "MAINT", "maintain", "1", "1", "0"},
		{"down", "DOWN", "active_down", "1", "1", "0"},
		{"nolb", "NOLB", "active_nolb", "1", "1", "0"},
		{"spare", "no check", "backup_no_check", "1", "0", "1"},
		// The weight is that of the usable actives; bck counts the
		// usable backups even while they wait.
		{"BACKEND", "UP", "backend", "3", "1", "1"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		r := &rows[i]
		got := []string{r.Name(), r.Get(FieldStatus).String(), rowClass(r), r.Get(FieldWeight).String(), r.Get(FieldAct).String(), r.Get(FieldBck).String()}
		if strings.Join(got, " ") != strings.Join([]string{w.name, w.status, w.class, w.weight, w.act, w.bck}, " ") {
			t.Errorf("row %d: %v, want %+v", i, got, w)
		}
		if r.ProxyID != 7 || r.Get(FieldIid).Num() != 7 || r.Proxy() != "snap" {
			t.Errorf("row %d: proxy %q id %d", i, r.Proxy(), r.ProxyID)
		}
	}
	if addr := rows[0].Get(FieldAddr).String(); addr != "127.0.0.1:1" {
		t.Errorf("addr with legends: %q", addr)
	}
	if algo := rows[6].Get(FieldAlgo).String(); algo != "roundrobin" {
		t.Errorf("algo with legends: %q", algo)
	}

	// ;up keeps the servers that are up, ;no-maint drops maintenance.
	names := func(rows []Row) string {
		var n []string
		for i := range rows {
			n = append(n, rows[i].Name())
		}
		return strings.Join(n, " ")
	}
	if got := names(Snapshot(Options{Scope: []string{"snap"}, UpOnly: true})); got != "up spare BACKEND" {
		t.Errorf(";up rows: %s", got)
	}
	if got := names(Snapshot(Options{Scope: []string{"snap"}, NoMaint: true})); got != "up drained down nolb spare BACKEND" {
		t.Errorf(";no-maint rows: %s", got)
	}

	// With no active server left the backend runs on its first backup.
	for _, s := range []string{"up", "drained", "nolb"} {
		must(b.SetAdminState(s, lbmodule.AdminMaint))
	}
	be := Snapshot(Options{Scope: []string{"snap"}})[6]
	if be.Get(FieldStatus).String() != "UP" || be.Get(FieldWeight).Num() != 1 || be.Get(FieldBck).Num() != 1 || be.Get(FieldAct).Num() != 0 {
		t.Errorf("backend on its backup: %s weight %d act %d bck %d", be.Get(FieldStatus), be.Get(FieldWeight).Num(), be.Get(FieldAct).Num(), be.Get(FieldBck).Num())
	}
	must(b.SetAdminState("spare", lbmodule.AdminMaint))
	be = Snapshot(Options{Scope: []string{"snap"}})[6]
	if be.Get(FieldStatus).String() != "DOWN" || be.Get(FieldChkdown).Num() != 1 {
		t.Errorf("backend without servers: %s, chkdown %d", be.Get(FieldStatus), be.Get(FieldChkdown).Num())
	}
}

func TestParseModifiers(t *testing.T) {
	for _, tc := range []struct {
		rest string
		want request
	}{
		{"", request{}},
		{";csv", request{csv: true}},
		{";norefresh;up;json", request{json: true, up: true, noRefresh: true}},
		{";up;csv;no-maint", request{csv: true, up: true, noMaint: true}},
		{";st=DONE;up", request{status: "DONE", up: true}},
		{";json-schema", request{}},
		{"?scope=ap", request{search: "ap"}},
		{"x;csv", request{csv: true}},
	} {
		if got := parseModifiers(tc.rest); got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.rest, got, tc.want)
		}
	}
}
