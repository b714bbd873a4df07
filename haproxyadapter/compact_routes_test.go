package haproxyadapter

import (
	"encoding/json"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestCompactRoutes checks which route lists compaction changes and how:
// only where the result behaves the same for every request.
func TestCompactRoutes(t *testing.T) {
	const (
		fe      = `{"handler":"haproxy_frontend"}`
		proxy   = `{"handler":"reverse_proxy"}`
		setA    = `{"handler":"headers","request":{"set":{"A":["1"]}}}`
		addB    = `{"handler":"headers","request":{"add":{"B":["{http.request.remote.host}"]}}}`
		delA    = `{"handler":"headers","request":{"delete":["a"]}}`
		readA   = `{"handler":"headers","request":{"set":{"C":["{http.request.header.A}"]}}}`
		wildDel = `{"handler":"headers","request":{"delete":["X-*"]}}`
		respX   = `{"handler":"headers","response":{"deferred":true,"set":{"X":["1"]}}}`
		respA   = `{"handler":"headers","response":{"deferred":true,"set":{"A":["2"]}}}`
		respY   = `{"handler":"headers","response":{"deferred":true,"delete":["Y"]}}`
		respReq = `{"handler":"headers","response":{"deferred":true,"set":{"Z":["1"]},"require":{"status_code":[200]}}}`
	)
	match := `[{"path":["/a"]}]`
	for _, tc := range []struct{ name, in, want string }{
		{"unmatched routes join",
			`[{"handle":[` + fe + `]},{"handle":[` + proxy + `],"terminal":true}]`,
			`[{"handle":[` + fe + `,` + proxy + `],"terminal":true}]`},
		{"a terminal route ends a join",
			`[{"handle":[` + fe + `],"terminal":true},{"handle":[` + proxy + `]}]`,
			`[{"handle":[` + fe + `],"terminal":true},{"handle":[` + proxy + `]}]`},
		{"a matched route is not joined",
			`[{"handle":[` + fe + `]},{"match":` + match + `,"handle":[` + proxy + `]}]`,
			`[{"handle":[` + fe + `]},{"match":` + match + `,"handle":[` + proxy + `]}]`},
		{"a subroute of unmatched routes is inlined",
			`[{"match":` + match + `,"handle":[{"handler":"subroute","routes":[{"handle":[` + respX + `]},{"handle":[` + proxy + `],"terminal":true}]}],"terminal":true}]`,
			`[{"match":` + match + `,"handle":[` + respX + `,` + proxy + `],"terminal":true}]`},
		{"a subroute with a matched route stays",
			`[{"handle":[{"handler":"subroute","routes":[{"match":` + match + `,"handle":[` + respX + `]},{"handle":[` + proxy + `]}]}]}]`,
			`[{"handle":[{"handler":"subroute","routes":[{"match":` + match + `,"handle":[` + respX + `]},{"handle":[` + proxy + `]}]}]}]`},
		{"header rules on different headers merge",
			`[{"handle":[` + setA + `,` + addB + `,` + proxy + `]}]`,
			`[{"handle":[{"handler":"headers","request":{"add":{"B":["{http.request.remote.host}"]},"set":{"A":["1"]}}},` + proxy + `]}]`},
		{"header rules on one header stay apart",
			`[{"handle":[` + setA + `,` + delA + `]}]`,
			`[{"handle":[` + setA + `,` + delA + `]}]`},
		{"a value reading a header is not merged",
			`[{"handle":[` + setA + `,` + readA + `]}]`,
			`[{"handle":[` + setA + `,` + readA + `]}]`},
		{"a wildcard delete is not merged",
			`[{"handle":[` + addB + `,` + wildDel + `]}]`,
			`[{"handle":[` + addB + `,` + wildDel + `]}]`},
		{"request and response rules merge into one handler",
			`[{"handle":[` + setA + `,` + respX + `,` + respY + `]}]`,
			`[{"handle":[{"handler":"headers","request":{"set":{"A":["1"]}},"response":{"delete":["Y"],"set":{"X":["1"]},"deferred":true}}]}]`},
		{"one header name on both sides merges",
			`[{"handle":[` + respA + `,` + setA + `]}]`,
			`[{"handle":[{"handler":"headers","request":{"set":{"A":["1"]}},"response":{"set":{"A":["2"]},"deferred":true}}]}]`},
		{"a merged handler takes no second rule on one of its headers",
			`[{"handle":[` + setA + `,` + respX + `,` + delA + `]}]`,
			`[{"handle":[{"handler":"headers","request":{"set":{"A":["1"]}},"response":{"set":{"X":["1"]},"deferred":true}},` + delA + `]}]`},
		{"a response rule with a status condition is not merged",
			`[{"handle":[` + respX + `,` + respReq + `]}]`,
			`[{"handle":[` + respX + `,` + respReq + `]}]`},
		{"ACL sets differing in patterns merge",
			`[{"match":[` + acl("a", "path", "beg", "/a/") + `,` + acl("b", "path", "beg", "/b/") + `],"handle":[` + proxy + `]}]`,
			`[{"match":[{"haproxy_acl":{"terms":[{"any":[{"fetch":"path","match":"beg","values":["/a/","/b/"]}]}]}}],"handle":[` + proxy + `]}]`},
		{"ACL sets with other match methods stay apart",
			`[{"match":[` + acl("a", "path", "beg", "/a/") + `,` + acl("b", "path", "end", "/b/") + `],"handle":[` + proxy + `]}]`,
			`[{"match":[` + acl("a", "path", "beg", "/a/") + `,` + acl("b", "path", "end", "/b/") + `],"handle":[` + proxy + `]}]`},
		{"a negated ACL is not merged",
			`[{"match":[` + acl("a", "path", "beg", "/a/") + `,{"haproxy_acl":{"terms":[{"negate":true,"any":[{"fetch":"path","match":"beg","values":["/b/"]}]}]}}],"handle":[` + proxy + `]}]`,
			`[{"match":[` + acl("a", "path", "beg", "/a/") + `,{"haproxy_acl":{"terms":[{"negate":true,"any":[{"fetch":"path","match":"beg","values":["/b/"]}]}]}}],"handle":[` + proxy + `]}]`},
		{"a set with a second matcher is not merged",
			`[{"match":[` + acl("a", "path", "beg", "/a/") + `,{"method":["GET"],"haproxy_acl":{"terms":[{"any":[{"fetch":"path","match":"beg","values":["/b/"]}]}]}}],"handle":[` + proxy + `]}]`,
			`[{"match":[` + acl("a", "path", "beg", "/a/") + `,{"method":["GET"],"haproxy_acl":{"terms":[{"any":[{"fetch":"path","match":"beg","values":["/b/"]}]}]}}],"handle":[` + proxy + `]}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in caddyhttp.RouteList
			if err := json.Unmarshal([]byte(tc.in), &in); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(compactRoutes(in))
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, []byte(tc.want)) {
				t.Errorf("compacted\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}

// acl is a matcher set of one named ACL of one test.
func acl(name, fetch, match, value string) string {
	return `{"haproxy_acl":{"terms":[{"name":"` + name + `","any":[{"fetch":"` + fetch + `","match":"` + match + `","values":["` + value + `"]}]}]}}`
}

// jsonEqual compares two JSON texts by value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}
