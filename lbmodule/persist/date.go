package persist

// HAProxy writes the dates of a cookie (last seen, first set) as five
// characters of the standard base64 alphabet holding 30 bits, most
// significant first: the Unix time in units of four seconds, rounded up.

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// b64Value maps a byte to its base64 value, or 0xff.
var b64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(b64Alphabet); i++ {
		t[b64Alphabet[i]] = byte(i)
	}
	return t
}()

// encodeDate appends the five characters for Unix time sec, rounded up to
// a multiple of four seconds. A date read from a cookie (a multiple of four)
// is written back unchanged.
func encodeDate(dst []byte, sec int64) []byte {
	v := uint32((sec + 3) >> 2)
	for shift := 24; shift >= 0; shift -= 6 {
		dst = append(dst, b64Alphabet[(v>>shift)&0x3f])
	}
	return dst
}

// decodeDate reads five characters and returns the Unix time they hold, or
// 0 when they are not a valid positive date (HAProxy then ignores them).
func decodeDate(s string) int64 {
	if len(s) < 5 {
		return 0
	}
	var v int64
	for i := 0; i < 5; i++ {
		d := b64Value[s[i]]
		if d == 0xff {
			return 0
		}
		v = v<<6 | int64(d)
	}
	return v << 2
}
