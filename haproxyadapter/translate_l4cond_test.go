package haproxyadapter

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
)

// TestSNIMatcher checks that the server name matcher chosen for an ACL
// accepts exactly the names HAProxy's match method accepts.
func TestSNIMatcher(t *testing.T) {
	for _, tc := range []struct {
		test     matchers.Test
		matcher  string
		yes, not []string
	}{
		{matchers.Test{IgnoreCase: true, Values: []string{"a.test", "b.test"}}, "sni",
			[]string{"a.test", "B.TEST"}, []string{"x.a.test", "a.test.x"}},
		// Without -i HAProxy compares case-sensitively; Caddy's sni
		// matcher would not.
		{matchers.Test{Values: []string{"a.test"}}, "sni_regexp",
			[]string{"a.test"}, []string{"A.test", "a.test.x", "aXtest"}},
		// '*' is literal in HAProxy, a wildcard for Caddy's sni matcher.
		{matchers.Test{IgnoreCase: true, Values: []string{"*.a.test"}}, "sni_regexp",
			[]string{"*.a.test", "*.A.test"}, []string{"x.a.test"}},
		{matchers.Test{Match: matchers.MatchEnd, Values: []string{".b.test"}}, "sni_regexp",
			[]string{"x.b.test", "y.x.b.test"}, []string{"b.test", "x.b.test.c", "x.B.test"}},
		{matchers.Test{Match: matchers.MatchBeg, IgnoreCase: true, Values: []string{"api."}}, "sni_regexp",
			[]string{"api.x", "API.y"}, []string{"xapi.y"}},
		{matchers.Test{Match: matchers.MatchSub, Values: []string{"mid"}}, "sni_regexp",
			[]string{"a.mid.b", "mid"}, []string{"a.MID.b"}},
		{matchers.Test{Match: matchers.MatchReg, Values: []string{"^www[0-9]+\\.", "\\.org$"}}, "sni_regexp",
			[]string{"www1.a", "x.org"}, []string{"www.a", "x.org.uk"}},
		{matchers.Test{Match: matchers.MatchFound}, "sni_regexp", []string{"a", "b.test"}, []string{""}},
	} {
		name, raw, err := sniMatcher(tc.test)
		if err != nil {
			t.Errorf("%+v: %v", tc.test, err)
			continue
		}
		if name != tc.matcher {
			t.Errorf("%+v: matcher %s, want %s", tc.test, name, tc.matcher)
			continue
		}
		match := func(sni string) bool {
			if name == "sni" {
				// Caddy's sni matcher lower-cases both sides.
				var names []string
				json.Unmarshal(raw, &names)
				for _, n := range names {
					if strings.EqualFold(n, sni) {
						return true
					}
				}
				return false
			}
			var re struct{ Pattern string }
			json.Unmarshal(raw, &re)
			return regexp.MustCompile(re.Pattern).MatchString(sni)
		}
		for _, s := range tc.yes {
			if !match(s) {
				t.Errorf("%+v (%s): %q does not match, HAProxy matches it", tc.test, raw, s)
			}
		}
		for _, s := range tc.not {
			if match(s) {
				t.Errorf("%+v (%s): %q matches, HAProxy does not match it", tc.test, raw, s)
			}
		}
	}
	for _, bad := range []matchers.Test{
		{Match: matchers.MatchDom, Values: []string{"a"}},
		{Match: matchers.MatchReg, Values: []string{"(unclosed"}},
		{Values: nil},
	} {
		if _, _, err := sniMatcher(bad); err == nil {
			t.Errorf("%+v: translated, want an error", bad)
		}
	}
}

func TestIntPatternsHold(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		port     int
		want     bool
	}{
		{[]string{"443"}, 443, true},
		{[]string{"80", "443"}, 8443, false},
		{[]string{"8000:8100"}, 8080, true},
		{[]string{":1024"}, 8080, false},
		{[]string{"1024:"}, 8080, true},
	} {
		got, err := intPatternsHold(tc.patterns, tc.port)
		if err != nil || got != tc.want {
			t.Errorf("%v holds for %d = %v, %v; want %v", tc.patterns, tc.port, got, err, tc.want)
		}
	}
	if _, err := intPatternsHold([]string{"gt"}, 1); err == nil {
		t.Error("operator pattern translated, want an error")
	}
}

// TestL4Logic checks the boolean algebra on matcher sets.
func TestL4Logic(t *testing.T) {
	a := l4Cond{{match: map[string]json.RawMessage{"remote_ip": json.RawMessage(`{"ranges":["10.0.0.0/8"]}`)}}}
	b := l4Cond{{match: map[string]json.RawMessage{"local_ip": json.RawMessage(`{"ranges":["127.0.0.1"]}`)}}}
	if got := l4Not(nil); !got.always() {
		t.Error("NOT never should always hold")
	}
	if got := l4Not(l4Always); len(got) != 0 {
		t.Error("NOT always should never hold")
	}
	if got := l4Or(a, l4Always); !got.always() {
		t.Error("a OR always should always hold")
	}
	and, err := l4And(l4Or(a, b), l4Not(a))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(and.raw())
	want := `[{"not":[{"remote_ip":{"ranges":["10.0.0.0/8"]}}],"remote_ip":{"ranges":["10.0.0.0/8"]}},{"local_ip":{"ranges":["127.0.0.1"]},"not":[{"remote_ip":{"ranges":["10.0.0.0/8"]}}]}]`
	if string(js) != want {
		t.Errorf("(a OR b) AND NOT a =\n%s\nwant\n%s", js, want)
	}
	if _, err := l4And(a, a); err == nil {
		t.Error("two remote_ip tests in one set were combined")
	}
	if got, err := l4And(a, nil); err != nil || len(got) != 0 {
		t.Errorf("a AND never = %v, %v; want never", got, err)
	}
}

// TestRuleDiagnosedOnce: a rule translated for each group of binds is
// reported once.
func TestRuleDiagnosedOnce(t *testing.T) {
	cfg := []byte(`frontend in
    bind 127.0.0.1:8000
    bind 127.0.0.1:8001 accept-proxy
    bind 127.0.0.1:8002-8003
    use_backend b if { req.len gt 0 } { dst_port 8000 }
    default_backend b

backend b
    server s1 127.0.0.1:9000
`)
	_, _, err := Adapter{}.Adapt(cfg, nil)
	if err == nil {
		t.Fatal("adapted, want an error")
	}
	if n := strings.Count(err.Error(), "req.len"); n != 1 {
		t.Errorf("the error is reported %d times:\n%v", n, err)
	}
}
