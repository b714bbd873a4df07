// Package cryptauth checks passwords against crypt(3) hashes as the C
// library's crypt() computes them: MD5-crypt ("$1$"), SHA-256-crypt
// ("$5$") and SHA-512-crypt ("$6$"), with an optional "rounds=" for the
// SHA ones, and bcrypt ("$2a$", "$2b$", "$2y$"). These are the hashes an
// HAProxy userlist holds in "user <name> password <hash>".
//
// It also provides the Caddy module http.authentication.hashes.crypt, so
// that Caddy's basic_auth can check such hashes.
package cryptauth

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// crypt64 is the alphabet of crypt(3)'s base-64 encoding.
const crypt64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Rounds of SHA-crypt: the default, and the bounds a "rounds=" must lie in.
const (
	shaDefaultRounds = 5000
	shaMinRounds     = 1000
	shaMaxRounds     = 999_999_999
)

// setting is a parsed crypt(3) hash: the scheme's prefix, its parameters
// and salt, and the encoded digest that follows.
type setting struct {
	scheme       string // "$1$", "$5$" or "$6$"
	rounds       int    // SHA-crypt only
	customRounds bool   // "rounds=" was written, so it is part of the output
	salt         string
	digest       string
}

// digestLen is the length of the encoded digest of each scheme.
var digestLen = map[string]int{"$1$": 22, "$5$": 43, "$6$": 86}

// maxSalt is the longest salt of each scheme.
var maxSalt = map[string]int{"$1$": 8, "$5$": 16, "$6$": 16}

// parse reads a complete MD5- or SHA-crypt hash. It accepts exactly the
// hashes that crypt() can reproduce: a hash that crypt() would reject, or
// whose salt it would shorten, matches no password, and is an error here.
func parse(hash string) (*setting, error) {
	s := &setting{}
	for scheme := range digestLen {
		if strings.HasPrefix(hash, scheme) {
			s.scheme = scheme
		}
	}
	if s.scheme == "" {
		return nil, errUnsupported
	}
	rest := hash[len(s.scheme):]
	if s.scheme != "$1$" {
		s.rounds = shaDefaultRounds
		if num, ok := strings.CutPrefix(rest, "rounds="); ok {
			digits, after, found := strings.Cut(num, "$")
			n, err := strconv.Atoi(digits)
			// crypt() refuses leading zeros, signs and out-of-range
			// counts rather than clamping them.
			if !found || err != nil || digits[0] < '1' || digits[0] > '9' || n < shaMinRounds || n > shaMaxRounds {
				return nil, fmt.Errorf("invalid rounds in %q: crypt() needs rounds=N$ with N from %d to %d", hash, shaMinRounds, shaMaxRounds)
			}
			s.rounds, s.customRounds, rest = n, true, after
		}
	}
	salt, digest, found := strings.Cut(rest, "$")
	if !found {
		return nil, errors.New("no '$' between the salt and the digest")
	}
	if len(salt) > maxSalt[s.scheme] {
		return nil, fmt.Errorf("salt %q is longer than %d characters: crypt() would shorten it, so no password matches", salt, maxSalt[s.scheme])
	}
	if !inAlphabet(salt) {
		return nil, fmt.Errorf("salt %q has characters outside [./0-9A-Za-z]", salt)
	}
	if len(digest) != digestLen[s.scheme] || !inAlphabet(digest) {
		return nil, fmt.Errorf("the digest must be %d characters of [./0-9A-Za-z]", digestLen[s.scheme])
	}
	s.salt, s.digest = salt, digest
	return s, nil
}

func inAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(crypt64, s[i]) < 0 {
			return false
		}
	}
	return true
}

// errUnsupported is returned for a hash of a scheme this package does not
// compute.
var errUnsupported = errors.New("not an MD5-crypt, SHA-256-crypt, SHA-512-crypt or bcrypt hash")

// isBcrypt reports whether a hash is a bcrypt one.
func isBcrypt(hash string) bool {
	return strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$")
}

// Check returns nil when Verify can check passwords against hash, or why
// it cannot.
func Check(hash string) error {
	if isBcrypt(hash) {
		_, err := bcrypt.Cost([]byte(hash))
		return err
	}
	_, err := parse(hash)
	return err
}

// Verify reports whether password hashes to hash. The digests are compared
// in constant time. The error is set only when the hash cannot be checked.
func Verify(hash, password []byte) (bool, error) {
	if isBcrypt(string(hash)) {
		err := bcrypt.CompareHashAndPassword(hash, password)
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, nil
		}
		return err == nil, err
	}
	s, err := parse(string(hash))
	if err != nil {
		return false, err
	}
	var sum []byte
	switch s.scheme {
	case "$1$":
		sum = md5Crypt(password, []byte(s.salt))
	case "$5$":
		sum = sha256Crypt(password, []byte(s.salt), s.rounds)
	case "$6$":
		sum = sha512Crypt(password, []byte(s.salt), s.rounds)
	}
	return subtle.ConstantTimeCompare(sum, []byte(s.digest)) == 1, nil
}

// encode appends the crypt(3) base-64 encoding of a digest: bytes are taken
// in groups of three in the order the scheme prescribes, each group is
// written as four characters, least significant six bits first; the last
// group may be shorter.
func encode(digest []byte, groups [][3]int, tail []int) []byte {
	out := make([]byte, 0, (len(groups)*3+len(tail))*4/3+1)
	put := func(w uint32, n int) {
		for range n {
			out = append(out, crypt64[w&0x3f])
			w >>= 6
		}
	}
	for _, g := range groups {
		put(uint32(digest[g[0]])<<16|uint32(digest[g[1]])<<8|uint32(digest[g[2]]), 4)
	}
	var w uint32
	for _, i := range tail {
		w = w<<8 | uint32(digest[i])
	}
	put(w, len(tail)+1)
	return out
}
