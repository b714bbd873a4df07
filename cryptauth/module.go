package cryptauth

import (
	"crypto/rand"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"
)

func init() {
	caddy.RegisterModule(Hash{})
}

// Hash is the http.authentication.hashes.crypt module: basic_auth
// accounts whose passwords are crypt(3) hashes, as in HAProxy userlists.
// One list may mix MD5-crypt ("$1$"), SHA-256-crypt ("$5$"), SHA-512-crypt
// ("$6$", both with an optional "rounds=") and bcrypt ("$2a$", "$2b$",
// "$2y$") hashes. Traditional DES and other schemes are not checked.
type Hash struct{}

// CaddyModule returns the Caddy module information.
func (Hash) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.authentication.hashes.crypt",
		New: func() caddy.Module { return new(Hash) },
	}
}

// Compare reports whether plaintext hashes to hashed. An error means the
// hash is of a scheme that cannot be checked.
func (Hash) Compare(hashed, plaintext []byte) (bool, error) {
	return Verify(hashed, plaintext)
}

// Hash hashes plaintext with SHA-512-crypt, the default rounds and a
// random 16-character salt.
func (Hash) Hash(plaintext []byte) ([]byte, error) {
	salt := []byte(rand.Text())[:16]
	// rand.Text uses base32 (A-Z, 2-7), which lies within crypt's alphabet.
	out := []byte("$6$")
	out = append(out, salt...)
	out = append(out, '$')
	return append(out, sha512Crypt(plaintext, salt, shaDefaultRounds)...), nil
}

// FakeHash returns a SHA-512-crypt hash to check against when the user is
// unknown, so that an unknown user costs as much as a wrong password.
func (Hash) FakeHash() []byte {
	// SHA-512-crypt of "antitiming", salt "fakesaltfakesalt", default rounds.
	return []byte(fakeHash)
}

const fakeHash = "$6$fakesaltfakesalt$0Nu4Of7dC3UibAmHZQSfUYOEvTFrNoQgnXHFxJa1BIfvNVmBVFaFAmhBlD5DOSuoQ336hWXvjLzeWFPokJXer1"

// Interface guards
var (
	_ caddyauth.Comparer = (*Hash)(nil)
	_ caddyauth.Hasher   = (*Hash)(nil)
)
