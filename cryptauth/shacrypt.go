package cryptauth

import (
	"crypto/sha256"
	"crypto/sha512"
	"hash"
)

// The orders in which SHA-crypt encodes its digests.
var (
	sha256Groups = [][3]int{
		{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29},
	}
	sha512Groups = [][3]int{
		{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
		{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51},
		{31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35},
		{15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19},
		{62, 20, 41},
	}
)

// sha256Crypt computes the encoded digest of SHA-256-crypt ("$5$").
func sha256Crypt(password, salt []byte, rounds int) []byte {
	return encode(shaCrypt(sha256.New, password, salt, rounds), sha256Groups, []int{31, 30})
}

// sha512Crypt computes the encoded digest of SHA-512-crypt ("$6$").
func sha512Crypt(password, salt []byte, rounds int) []byte {
	return encode(shaCrypt(sha512.New, password, salt, rounds), sha512Groups, []int{63})
}

// shaCrypt is Ulrich Drepper's SHA-crypt over the hash function newHash:
// digests of the password and salt are stretched over rounds iterations.
func shaCrypt(newHash func() hash.Hash, password, salt []byte, rounds int) []byte {
	h := newHash()
	size := h.Size()

	// B: password, salt, password.
	h.Write(password)
	h.Write(salt)
	h.Write(password)
	b := h.Sum(nil)

	// A: password, salt, B repeated over the password's length, then for
	// each bit of that length, low bit first: B for a one, the password
	// for a zero.
	h.Reset()
	h.Write(password)
	h.Write(salt)
	h.Write(repeat(b, len(password)))
	for n := len(password); n > 0; n >>= 1 {
		if n&1 == 1 {
			h.Write(b)
		} else {
			h.Write(password)
		}
	}
	a := h.Sum(nil)

	// P: the digest of the password repeated as many times as it is
	// long, cut to the password's length.
	h.Reset()
	for range len(password) {
		h.Write(password)
	}
	p := repeat(h.Sum(nil), len(password))

	// S: the digest of the salt repeated 16+A[0] times, cut to the
	// salt's length.
	h.Reset()
	for range 16 + int(a[0]) {
		h.Write(salt)
	}
	s := repeat(h.Sum(nil), len(salt))

	return stretch(h, a, p, s, rounds)[:size]
}

// stretch is the loop MD5-crypt and SHA-crypt share: each round digests
// the previous digest and the key, in an order that alternates, with the
// salt added unless the round is a multiple of 3 and the key again unless
// it is a multiple of 7.
func stretch(h hash.Hash, digest, key, salt []byte, rounds int) []byte {
	for i := range rounds {
		h.Reset()
		if i&1 == 1 {
			h.Write(key)
		} else {
			h.Write(digest)
		}
		if i%3 != 0 {
			h.Write(salt)
		}
		if i%7 != 0 {
			h.Write(key)
		}
		if i&1 == 1 {
			h.Write(digest)
		} else {
			h.Write(key)
		}
		digest = h.Sum(digest[:0])
	}
	return digest
}

// repeat returns n bytes made of digest repeated.
func repeat(digest []byte, n int) []byte {
	out := make([]byte, n)
	for i := 0; i < n; i += len(digest) {
		copy(out[i:], digest)
	}
	return out
}
