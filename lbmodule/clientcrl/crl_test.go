package clientcrl

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/certtest"
)

// newCert issues the certificate name, a CA or not, with the serial number
// its issuer's revocation list may name.
func newCert(t *testing.T, parent *certtest.Cert, name string, ca bool, serial int64) *certtest.Cert {
	t.Helper()
	return certtest.Issue(t, parent, &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		IsCA: ca, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	})
}

func crlPEM(t *testing.T, ca *certtest.Cert, next time.Time, revoked ...*big.Int) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: next}
	for _, s := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now()})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// TestVerifier checks each certificate of the chain, the root included,
// against its issuer's list.
func TestVerifier(t *testing.T) {
	root := newCert(t, nil, "root", true, 1)
	inter := newCert(t, root, "inter", true, 2)
	leaf := newCert(t, inter, "leaf", false, 3)
	other := newCert(t, nil, "other", true, 4)
	later := time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name  string
		lists [][]byte
		want  string
	}{
		{"every issuer's list", [][]byte{crlPEM(t, root, later), crlPEM(t, inter, later)}, ""},
		{"leaf revoked", [][]byte{crlPEM(t, root, later), crlPEM(t, inter, later, big.NewInt(3))}, "revoked"},
		{"intermediate revoked", [][]byte{crlPEM(t, root, later, big.NewInt(2)), crlPEM(t, inter, later)}, "revoked"},
		{"no list for the root", [][]byte{crlPEM(t, inter, later)}, "no revocation list"},
		{"list signed by another CA", [][]byte{crlPEM(t, root, later), crlPEM(t, other, later)}, "no revocation list"},
		{"expired list", [][]byte{crlPEM(t, root, later), crlPEM(t, inter, time.Now().Add(-time.Minute))}, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "crl.pem")
			var data []byte
			for _, l := range tc.lists {
				data = append(data, l...)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			v := &Verifier{CRLFiles: []string{path}}
			if err := v.Provision(caddyContext()); err != nil {
				t.Fatal(err)
			}
			err := v.VerifyClientCertificate(nil, [][]*x509.Certificate{{leaf.Cert, inter.Cert, root.Cert}})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestProvisionRefusesFilesWithoutLists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(path, []byte("not a list\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, v := range []*Verifier{{}, {CRLFiles: []string{path}}, {CRLFiles: []string{path + ".missing"}}} {
		if err := v.Provision(caddyContext()); err == nil {
			t.Errorf("Provision(%v) accepted", v.CRLFiles)
		}
	}
}
