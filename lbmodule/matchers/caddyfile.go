package matchers

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// UnmarshalCaddyfile reads the matcher from a Caddyfile, one HAProxy ACL
// expression per line; the lines must all hold:
//
//	@api haproxy_acl path_beg /api/ /v2/
//	@admin {
//		haproxy_acl hdr(host) -i admin.example.com
//		haproxy_acl src 10.0.0.0/8
//	}
//
// An expression is <fetch>[(<args>)] [-i] [-m <method>] [--] [<values>…],
// with the fetches and methods of Test. Negate with Caddy's not matcher.
func (m *MatchACL) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	for d.Next() {
		args := d.RemainingArgs()
		if len(args) == 0 {
			return d.ArgErr()
		}
		name, fetchArgs, convs := SplitFetch(args[0])
		if len(convs) > 0 {
			return d.Errf("converters are not supported: %s", args[0])
		}
		fetch, match, ok := LookupFetch(name)
		if !ok {
			return d.Errf("unknown or unsupported fetch %q", name)
		}
		test := Test{Fetch: fetch, Args: fetchArgs, Match: match}
		i := 1
	flags:
		for ; i < len(args); i++ {
			switch args[i] {
			case "-i":
				test.IgnoreCase = true
			case "-m":
				if i+1 >= len(args) {
					return d.Err("-m needs a match method")
				}
				test.Match = args[i+1]
				i++
			case "--":
				i++
				break flags
			default:
				break flags
			}
		}
		test.Values = args[i:]
		if err := test.Validate(); err != nil {
			return d.Errf("%s: %v", args[0], err)
		}
		m.Terms = append(m.Terms, Term{Any: []Test{test}})
	}
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*MatchACL)(nil)
