package integration

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/certtest"
)

// writeCRL writes the revocation lists, each signed by its CA and revoking
// the serial numbers given, into one PEM file.
func writeCRL(t *testing.T, dir, name string, validFor time.Duration, lists map[*certtest.Cert][]*big.Int) string {
	t.Helper()
	var data []byte
	for ca, serials := range lists {
		tmpl := &x509.RevocationList{
			Number:     big.NewInt(1),
			ThisUpdate: time.Now().Add(-2 * time.Hour),
			NextUpdate: time.Now().Add(validFor),
		}
		for _, s := range serials {
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now().Add(-time.Hour)})
		}
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})...)
	}
	return writeTestFile(t, dir, name, data)
}

// TestClientCRLMatchesHAProxy presents good and revoked client certificates
// (signed by the root or by an intermediate) to binds whose crl-file holds
// the root's list, both lists, the intermediate's only, or an expired one,
// and compares who HAProxy and caddy let in.
func TestClientCRLMatchesHAProxy(t *testing.T) {
	o := startOrigin(t, "app")
	dir := t.TempDir()
	root := certtest.Issue(t, nil, caTemplate("Test Root"))
	inter := certtest.Issue(t, root, caTemplate("Test Intermediate"))
	good, revoked := certtest.Issue(t, root, clientTemplate("good")), certtest.Issue(t, root, clientTemplate("revoked"))
	goodVia, revokedVia := certtest.Issue(t, inter, clientTemplate("good-via")), certtest.Issue(t, inter, clientTemplate("revoked-via"))
	clients := []struct {
		name  string
		chain []*certtest.Cert
	}{
		{"none", nil},
		{"good", []*certtest.Cert{good}},
		{"revoked", []*certtest.Cert{revoked}},
		{"good via the intermediate", []*certtest.Cert{goodVia, inter}},
		{"revoked via the intermediate", []*certtest.Cert{revokedVia, inter}},
	}
	rootCRL := map[*certtest.Cert][]*big.Int{root: {revoked.Cert.SerialNumber}}
	interCRL := map[*certtest.Cert][]*big.Int{inter: {revokedVia.Cert.SerialNumber}}
	both := map[*certtest.Cert][]*big.Int{root: {revoked.Cert.SerialNumber}, inter: {revokedVia.Cert.SerialNumber}}
	binds := []string{"RootOnly", "Both", "IntermediateOnly", "Expired"}
	data := map[string]any{
		"Cert": selfSignedPEM(t, "site.example"), "CA": writePEM(t, dir, "root.pem", root.Cert), "Origin": o.Addr(),
		"RootCRL":         writeCRL(t, dir, "root.crl", time.Hour, rootCRL),
		"BothCRLs":        writeCRL(t, dir, "both.crl", time.Hour, both),
		"IntermediateCRL": writeCRL(t, dir, "inter.crl", time.Hour, interCRL),
		"ExpiredCRL":      writeCRL(t, dir, "expired.crl", -time.Hour, both),
	}
	var listeners []string
	for _, b := range binds {
		port := freePort(t)
		data[b] = port
		listeners = append(listeners, loopback(port))
	}
	cfg := writeConfig(t, "client_crl.cfg", data)
	run := func() []string {
		var out []string
		for _, c := range clients {
			conf := &tls.Config{InsecureSkipVerify: true}
			if c.chain != nil {
				conf.Certificates = []tls.Certificate{chainCertificate(c.chain)}
			}
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: conf, DisableKeepAlives: true}}
			for i, b := range binds {
				res := "refused"
				if resp, err := client.Get("https://" + listeners[i] + "/"); err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					res = fmt.Sprintf("%d %s", resp.StatusCode, body)
				}
				out = append(out, fmt.Sprintf("%s to %s: %s", c.name, b, res))
			}
		}
		return out
	}
	want := answersMatchHAProxy(t, cfg, listeners, run, func(i int) string { return fmt.Sprintf("answer %d", i) })
	all := strings.Join(want, "\n")
	if !strings.Contains(all, "good to RootOnly: 200 app") || !strings.Contains(all, "revoked to RootOnly: refused") {
		t.Errorf("haproxy did not behave as the test expects:\n%s", all)
	}
}
