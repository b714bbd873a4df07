package haproxyadapter

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddytls"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
)

// HAProxy picks a bind's certificate by the client's SNI: an exact name
// first, then a wildcard one ("*.example.com" covers one label); among
// certificates of the same name the first declared wins. A crt-list line's
// SNI filters replace its certificate's own names (CN and DNS SANs). When
// no name matches, the first declared certificate is used. A crt-list
// line's options apply whenever its certificate is chosen. The policies
// below follow that order: exact names, wildcard names, then the first
// certificate's policy without a match.

// crtListLine is one line of a crt-list file:
// "<crtfile> [\[<sslbindconf> ...\]] [[!]<snifilter> ...]".
type crtListLine struct {
	pos     config.Pos
	crt     string
	options []string
	filters []string
}

// readCrtList reads a crt-list file; empty lines and '#' comments are
// skipped.
func readCrtList(path string) ([]crtListLine, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	var lines []crtListLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		line := crtListLine{pos: config.Pos{File: path, Line: n}}
		crt, rest, _ := strings.Cut(text, " ")
		line.crt = crt
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("%s: missing ']'", line.pos)
			}
			line.options = strings.Fields(rest[1:end])
			rest = rest[end+1:]
		}
		line.filters = strings.Fields(rest)
		lines = append(lines, line)
	}
	return lines, sc.Err()
}

// crtListOptionArgs are the options a crt-list line may set, with the
// number of words each takes.
var crtListOptionArgs = map[string]int{
	"alpn": 1, "verify": 1, "ca-file": 1, "ca-verify-file": 1, "crl-file": 1,
	"ssl-min-ver": 1, "ssl-max-ver": 1, "ciphers": 1, "ciphersuites": 1,
	"curves": 1, "ecdhe": 1, "npn": 1, "no-ca-names": 0, "allow-0rtt": 0,
}

// certSource is a certificate the bind may serve (a crt-list line's, or
// the crt files of the bind line together), with the names it is chosen
// for and the policy it is served with.
type certSource struct {
	names  []string
	policy *caddytls.ConnectionPolicy
	// crtFile is the first crt file of the bind line's source.
	crtFile string
}

// crtListPolicies translates the bind's crt-list files. base is the bind
// line's policy, serving the crt files (crtFiles), and baseCC its client
// certificate options.
func (t *translator) crtListPolicies(p *config.Proxy, b *config.Bind, base *caddytls.ConnectionPolicy, baseCC clientCertOptions, crtFiles []caddytls.CertKeyFilePair) caddytls.ConnectionPolicies {
	ok := true
	var crtSource *certSource
	if len(crtFiles) > 0 {
		crtSource = &certSource{policy: base, crtFile: crtFiles[0].Certificate}
		for _, f := range crtFiles {
			names, err := certNames(f.Certificate)
			if err != nil {
				t.errorf(b.Pos, "bind", "crt %s: %v", f.Certificate, err)
				ok = false
			}
			crtSource.names = append(crtSource.names, names...)
		}
	}
	var sources []*certSource
	for _, arg := range b.Params {
		// The first certificate declared on the line is the default.
		if arg == "crt" && crtSource != nil {
			sources = append(sources, crtSource)
			crtSource = nil
		}
		if arg == "crt-list" {
			break
		}
	}
	for _, list := range b.CrtLists {
		path := t.crtPath(list)
		lines, err := readCrtList(path)
		if err != nil {
			t.errorf(b.Pos, "bind", "crt-list %s: %v", list, err)
			ok = false
			continue
		}
		for _, line := range lines {
			src, lineOK := t.crtListSource(p, b, base, baseCC, line)
			if !lineOK {
				ok = false
				continue
			}
			sources = append(sources, src)
		}
	}
	if crtSource != nil {
		sources = append(sources, crtSource)
	}
	if !ok || len(sources) == 0 {
		return nil
	}

	// Each name goes to the first certificate that declares it; exact
	// names are matched before wildcard ones.
	var policies caddytls.ConnectionPolicies
	seen := map[string]bool{}
	for _, wildcard := range []bool{false, true} {
		for _, src := range sources {
			var names []string
			for _, n := range src.names {
				if strings.HasPrefix(n, "*.") == wildcard && !seen[n] {
					seen[n] = true
					names = append(names, n)
				}
			}
			if len(names) == 0 {
				continue
			}
			cp := *src.policy
			cp.MatchersRaw = caddy.ModuleMap{"sni": caddyconfig.JSON(names, nil)}
			policies = append(policies, &cp)
		}
	}
	if b.StrictSNI {
		// strict-sni: a handshake whose SNI names no certificate fails.
		return policies
	}
	def := sources[0].policy
	if sources[0].crtFile != "" {
		// The default is the first crt file alone, not every crt file of
		// the line.
		tag := fmt.Sprintf("haproxy:%s:%s:default", p.Name, b.Pos)
		t.loadCertFiles([]caddytls.CertKeyFilePair{certFilePair(sources[0].crtFile, tag)})
		cp := *def
		cp.CertSelection = &caddytls.CustomCertSelectionPolicy{AnyTag: []string{tag}}
		def = &cp
	}
	return append(policies, def)
}

// crtListSource loads the certificate of a crt-list line with a tag of its
// own and returns the names and policy it is served with.
func (t *translator) crtListSource(p *config.Proxy, b *config.Bind, base *caddytls.ConnectionPolicy, baseCC clientCertOptions, line crtListLine) (*certSource, bool) {
	fail := func(format string, args ...any) (*certSource, bool) {
		// Reported at the bind line, naming the crt-list's own line.
		t.errorf(b.Pos, "crt-list "+line.pos.String(), format, args...)
		return nil, false
	}
	path := t.crtPath(line.crt)
	if isDir(path) {
		return fail("%s is a directory: name its files one per line", line.crt)
	}
	// The line's options override the bind line's.
	policy := &caddytls.ConnectionPolicy{}
	*policy = *base
	cc := baseCC
	for i := 0; i < len(line.options); i++ {
		n, known := crtListOptionArgs[line.options[i]]
		if !known {
			return fail("option %q is not translated", line.options[i])
		}
		if i+n >= len(line.options) {
			return fail("option %q needs an argument", line.options[i])
		}
		if line.options[i] == "verify" && !slices.Contains([]string{"none", "optional", "required"}, line.options[i+1]) {
			return fail("verify %q: expects none, optional or required", line.options[i+1])
		}
		t.tlsOption(b.Pos, "crt-list "+line.pos.String(), policy, &cc, line.options[i:i+1+n])
		i += n
	}
	clientAuth, err := t.clientAuthentication(cc)
	if err != nil {
		return fail("%v", err)
	}
	policy.ClientAuthentication = clientAuth
	names, err := certNames(path)
	if err != nil {
		return fail("%s: %v", line.crt, err)
	}
	if len(line.filters) > 0 {
		for _, f := range line.filters {
			if strings.HasPrefix(f, "!") {
				return fail("negative SNI filter %q is not translated", f)
			}
			if !slices.Contains(names, strings.ToLower(f)) && !coveredByWildcard(names, strings.ToLower(f)) {
				return fail("SNI filter %q is not a name of %s: Caddy serves a certificate only for its own names", f, line.crt)
			}
		}
		names = nil
		for _, f := range line.filters {
			names = append(names, strings.ToLower(f))
		}
	}
	tag := fmt.Sprintf("haproxy:%s:%s", p.Name, line.pos)
	t.loadCertFiles([]caddytls.CertKeyFilePair{certFilePair(path, tag)})
	policy.CertSelection = &caddytls.CustomCertSelectionPolicy{AnyTag: []string{tag}}
	return &certSource{names: names, policy: policy}, true
}

// coveredByWildcard reports whether one of names is a wildcard covering
// the exact name n.
func coveredByWildcard(names []string, n string) bool {
	_, parent, found := strings.Cut(n, ".")
	return found && !strings.HasPrefix(n, "*.") && slices.Contains(names, "*."+parent)
}

// certNames returns the lower-cased names HAProxy indexes a certificate
// under: its subject CN and DNS SANs.
func certNames(path string) ([]string, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, n := range append([]string{c.Subject.CommonName}, c.DNSNames...) {
			if n = strings.ToLower(n); n != "" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		return names, nil
	}
	return nil, fmt.Errorf("no PEM certificate")
}
