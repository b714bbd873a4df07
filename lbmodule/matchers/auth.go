package matchers

import (
	"crypto/sha256"
	"net/http"
	"slices"
	"sync"

	"github.com/caddy-haproxy/caddy-haproxy/cryptauth"
)

// Account is a user of an HAProxy userlist, for the http_auth and
// http_auth_group fetches.
type Account struct {
	// Username is the user's name.
	Username string `json:"username"`
	// Password is the crypt(3) hash of the user's password: MD5, SHA-256
	// or SHA-512 crypt, or bcrypt.
	Password string `json:"password"`
	// Groups are the userlist groups the user belongs to.
	Groups []string `json:"groups,omitempty"`
}

// authCache remembers recent password checks: hashes are slow on purpose,
// and a client sends the same credentials with every request.
type authCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]bool
}

// maxAuthCache bounds the cache; it is emptied when full.
const maxAuthCache = 1024

func (c *authCache) check(hash, password string) bool {
	key := sha256.Sum256([]byte(hash + "\x00" + password))
	c.mu.Lock()
	ok, found := c.entries[key]
	c.mu.Unlock()
	if found {
		return ok
	}
	ok, _ = cryptauth.Verify([]byte(hash), []byte(password))
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxAuthCache {
		c.entries = make(map[[sha256.Size]byte]bool)
	}
	c.entries[key] = ok
	c.mu.Unlock()
	return ok
}

// authenticatedUser returns the account whose credentials the request's
// Basic Authorization header carries, or nil.
func (t *Test) authenticatedUser(r *http.Request) *Account {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil
	}
	for i := range t.Accounts {
		a := &t.Accounts[i]
		if a.Username == user {
			if t.authCache.check(a.Password, pass) {
				return a
			}
			return nil
		}
	}
	return nil
}

// evalAuth evaluates http_auth (valid credentials) and http_auth_group
// (valid credentials of a user in one of the groups given as values).
func (t *Test) evalAuth(r *http.Request) bool {
	a := t.authenticatedUser(r)
	if a == nil {
		return false
	}
	if t.Fetch == "http_auth" {
		return t.compiled.matchInt(1)
	}
	for _, g := range t.Values {
		if slices.Contains(a.Groups, g) {
			return true
		}
	}
	return false
}
