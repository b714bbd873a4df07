package matchers

import (
	"crypto/x509"
	"net/http"
	"testing"
)

// TestClientCertificateFetches checks ssl_c_used and ssl_c_verify on plain
// requests, TLS requests without a client certificate and with one.
func TestClientCertificateFetches(t *testing.T) {
	plain := func() *http.Request { return request("GET", "/") }
	noCert := func() *http.Request { return withTLS(request("GET", "/"), "a.example") }
	withCert := func() *http.Request {
		r := noCert()
		r.TLS.PeerCertificates = []*x509.Certificate{{}}
		return r
	}
	for _, tc := range []struct {
		name string
		test Test
		req  *http.Request
		want bool
	}{
		{"ssl_c_used plain", Test{Fetch: "ssl_c_used"}, plain(), false},
		{"ssl_c_used without certificate", Test{Fetch: "ssl_c_used"}, noCert(), false},
		{"ssl_c_used with certificate", Test{Fetch: "ssl_c_used"}, withCert(), true},
		{"ssl_c_verify 0 plain", Test{Fetch: "ssl_c_verify", Values: []string{"0"}}, plain(), false},
		{"ssl_c_verify 0 without certificate", Test{Fetch: "ssl_c_verify", Values: []string{"0"}}, noCert(), true},
		{"ssl_c_verify 0 with certificate", Test{Fetch: "ssl_c_verify", Values: []string{"0"}}, withCert(), true},
		{"ssl_c_verify gt 0", Test{Fetch: "ssl_c_verify", Values: []string{"gt", "0"}}, withCert(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustMatcher(t, tc.test).Match(tc.req); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
