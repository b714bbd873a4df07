package matchers

import (
	"encoding/json"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	d := caddyfile.NewTestDispenser(`
		haproxy_acl path_beg /api/ /v2/
		haproxy_acl hdr(host) -i -m dom example.com
		haproxy_acl urlp(id) -- -1
	`)
	var m MatchACL
	if err := m.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(m)
	want := `{"terms":[{"any":[{"fetch":"path","match":"beg","values":["/api/","/v2/"]}]},` +
		`{"any":[{"fetch":"hdr","args":["host"],"match":"dom","ignore_case":true,"values":["example.com"]}]},` +
		`{"any":[{"fetch":"url_param","args":["id"],"values":["-1"]}]}]}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for _, bad := range []string{
		"haproxy_acl",
		"haproxy_acl req.body foo",
		"haproxy_acl path,lower /x",
		"haproxy_acl path -m nope /x",
		"haproxy_acl src example.com",
	} {
		var m MatchACL
		if err := m.UnmarshalCaddyfile(caddyfile.NewTestDispenser(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
