package haproxyadapter

import (
	"encoding/json"
	"reflect"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
)

// mergeACLSets merges consecutive matcher sets that each hold one ACL
// test differing from the next only in its patterns, such as those of
// fifty "use_backend b if { path_beg /x }" rules to one backend: a test
// matches when any fetched value matches any pattern, so one test with
// all the patterns matches exactly when one of the sets would, and the
// path is fetched once instead of fifty times.
func mergeACLSets(sets caddyhttp.RawMatcherSets) caddyhttp.RawMatcherSets {
	if len(sets) < 2 {
		return sets
	}
	out := make(caddyhttp.RawMatcherSets, 0, len(sets))
	var acc *matchers.MatchACL
	for _, set := range sets {
		m, ok := singleACLTest(set)
		if ok && acc != nil && sameTest(acc.Terms[0].Any[0], m.Terms[0].Any[0]) {
			t := &acc.Terms[0]
			t.Name = ""
			t.Any[0].Values = append(t.Any[0].Values, m.Terms[0].Any[0].Values...)
			out[len(out)-1] = caddy.ModuleMap{"haproxy_acl": caddyconfig.JSON(acc, nil)}
			continue
		}
		acc = nil
		if ok {
			acc = m
		}
		out = append(out, set)
	}
	return out
}

// singleACLTest decodes set when it is one haproxy_acl matcher of one
// term, not negated, of one test with patterns and nothing else.
func singleACLTest(set caddy.ModuleMap) (*matchers.MatchACL, bool) {
	raw, ok := set["haproxy_acl"]
	if !ok || len(set) != 1 {
		return nil, false
	}
	var m matchers.MatchACL
	if json.Unmarshal(raw, &m) != nil || len(m.Terms) != 1 || m.Terms[0].Negate || len(m.Terms[0].Any) != 1 {
		return nil, false
	}
	t := m.Terms[0].Any[0]
	if len(t.Values) == 0 || len(t.Accounts) > 0 {
		return nil, false
	}
	return &m, true
}

// sameTest reports whether a and b differ in their patterns only.
func sameTest(a, b matchers.Test) bool {
	a.Values, b.Values = nil, nil
	return reflect.DeepEqual(a, b)
}
