package cryptauth

import "crypto/md5"

// md5Groups is the order in which MD5-crypt encodes its digest.
var md5Groups = [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}}

// md5Crypt computes the encoded digest of Poul-Henning Kamp's MD5-crypt
// ("$1$"): an initial digest of password, magic and salt, then 1000 rounds
// mixing them again.
func md5Crypt(password, salt []byte) []byte {
	alt := md5.New()
	alt.Write(password)
	alt.Write(salt)
	alt.Write(password)
	altSum := alt.Sum(nil)

	h := md5.New()
	h.Write(password)
	h.Write([]byte("$1$"))
	h.Write(salt)
	for n := len(password); n > 0; n -= md5.Size {
		h.Write(altSum[:min(n, md5.Size)])
	}
	// For each bit of the password's length, low bit first: a zero byte
	// for a one, the password's first byte for a zero.
	for n := len(password); n > 0; n >>= 1 {
		if n&1 == 1 {
			h.Write([]byte{0})
		} else {
			h.Write(password[:1])
		}
	}
	sum := h.Sum(nil)

	return encode(stretch(h, sum, password, salt, 1000), md5Groups, []int{11})
}
