package runtimeapi

import (
	"slices"
	"strings"
	"testing"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

func TestSplitCommandLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want [][]string
	}{
		{"show stat", [][]string{{"show", "stat"}}},
		{"  get  weight\tbe/s1 ", [][]string{{"get", "weight", "be/s1"}}},
		{"a;b c;;d", [][]string{{"a"}, {"b", "c"}, nil, {"d"}}},
		{`set server be/a\;b state ready`, [][]string{{"set", "server", "be/a;b", "state", "ready"}}},
		{`get weight be\ x/s1`, [][]string{{"get", "weight", "be x/s1"}}},
	} {
		var got [][]string
		for _, cmd := range splitCommands(tc.line) {
			got = append(got, splitWords(cmd))
		}
		if !slices.EqualFunc(got, tc.want, slices.Equal[[]string]) {
			t.Errorf("%q: %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestExecLevelsAndErrors(t *testing.T) {
	b, err := lbmodule.AttachBackend(lbmodule.BackendConfig{Backend: "rtapi-exec", ProxyID: 7, Balance: "static-rr",
		Servers: []lbmodule.ServerConfig{{Name: "s1", Dial: "127.0.0.1:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer lbmodule.DetachBackend(b)
	for _, tc := range []struct {
		level Level
		line  string
		want  string
	}{
		{LevelAdmin, "show cli level", "admin\n\n"},
		{LevelOperator, "show cli level", "operator\n\n"},
		{LevelUser, "operator", "Permission denied\n\n"},
		{LevelAdmin, "operator;show cli level;user;show cli level", "\noperator\n\n\nuser\n\n"},
		{LevelOperator, "set weight rtapi-exec/s1 0", "Permission denied\n\n"},
		{LevelUser, "get weight rtapi-exec/s1", "1 (initial 1)\n\n"},
		{LevelUser, "get weight #7/#1", "1 (initial 1)\n\n"},
		{LevelAdmin, "set weight rtapi-exec/s1 2", "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n"},
		{LevelAdmin, "set weight rtapi-exec/s1 0%;get weight rtapi-exec/s1", "\n0 (initial 1)\n\n"},
		{LevelAdmin, "set weight rtapi-exec/s2 1", "No such server.\n\n"},
		{LevelAdmin, "set weight nope/s1 1", "No such backend.\n\n"},
		{LevelAdmin, "get weight rtapi-exec", "Require 'backend/server'.\n\n"},
		{LevelAdmin, "enable health rtapi-exec/s1", "Health check was not configured on this server, cannot enable.\n\n"},
		{LevelAdmin, "prompt;show cli level;quit;show cli level", "\n> admin\n\n> "},
		{LevelAdmin, "set maxconn server rtapi-exec/s1 5", "\n"},
		{LevelAdmin, "set maxconn server rtapi-exec/s1 5x", "Trailing garbage in maxconn string\n"},
		{LevelOperator, "set maxconn server rtapi-exec/s1 5", "Permission denied\n\n"},
	} {
		if got := Exec(tc.level, tc.line); got != tc.want {
			t.Errorf("%v %q:\n%q\nwant\n%q", tc.level, tc.line, got, tc.want)
		}
	}
	help := Exec(LevelUser, "help get")
	if !strings.HasPrefix(help, "The following commands are valid at this level:\n  get weight <bk>/<srv>") || strings.Contains(help, "show stat") {
		t.Errorf("help get:\n%s", help)
	}
	if unknown := Exec(LevelAdmin, "show nothing"); !strings.HasPrefix(unknown, "Unknown command, but maybe one of the following ones is a better match:\n  show backend") {
		t.Errorf("unknown command:\n%s", unknown)
	}
	if unknown := Exec(LevelAdmin, "set maxconn foo"); !strings.HasPrefix(unknown, "Unknown command, but maybe one of the following ones is a better match:\n  set maxconn server <bk>/<srv>           : change a server's maxconn setting\n  help") {
		t.Errorf("unknown set maxconn command:\n%s", unknown)
	}
	if got := b.Server("s1").MaxConnNow(); got != 5 {
		t.Errorf("maxconn set to 5, now %d", got)
	}
}
