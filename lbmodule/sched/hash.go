package sched

import (
	"hash/crc32"
	"math/bits"
)

// HashFunction is one of HAProxy's key hash functions ("hash-type ...
// <function>").
type HashFunction uint8

// The hash functions, bit-exact with HAProxy's.
const (
	HashSDBM HashFunction = iota
	HashDJB2
	HashWT6
	HashCRC32
	HashNone
)

// ParseHashFunction returns the function named as in "hash-type"; the
// empty name is sdbm, HAProxy's default.
func ParseHashFunction(name string) (HashFunction, bool) {
	switch name {
	case "", "sdbm":
		return HashSDBM, true
	case "djb2":
		return HashDJB2, true
	case "wt6":
		return HashWT6, true
	case "crc32":
		return HashCRC32, true
	case "none":
		return HashNone, true
	}
	return 0, false
}

// String returns the function's HAProxy name.
func (f HashFunction) String() string {
	return [...]string{"sdbm", "djb2", "wt6", "crc32", "none"}[f]
}

// Sum hashes key with the function.
func (f HashFunction) Sum(key []byte) uint32 { return hashWith(f, key) }

// SumString is Sum for a string key, without converting it.
func (f HashFunction) SumString(key string) uint32 { return hashWith(f, key) }

// bytestring is a key: a string or a byte slice.
type bytestring interface{ ~string | ~[]byte }

func hashWith[T bytestring](f HashFunction, key T) uint32 {
	switch f {
	case HashDJB2:
		return djb2(key)
	case HashWT6:
		return wt6(key)
	case HashCRC32:
		return crc32Of(key)
	case HashNone:
		return asInt(key)
	}
	return sdbm(key)
}

// SDBM is the sdbm hash (HAProxy's default).
func SDBM(key []byte) uint32 { return sdbm(key) }

func sdbm[T bytestring](key T) uint32 {
	var h uint32
	for i := 0; i < len(key); i++ {
		h = uint32(key[i]) + (h << 6) + (h << 16) - h
	}
	return h
}

// DJB2 is Bernstein's hash.
func DJB2(key []byte) uint32 { return djb2(key) }

func djb2[T bytestring](key T) uint32 {
	h := uint32(5381)
	for i := 0; i < len(key); i++ {
		h = h*33 + uint32(key[i])
	}
	return h
}

// WT6 is Willy Tarreau's wt6 hash.
func WT6(key []byte) uint32 { return wt6(key) }

func wt6[T bytestring](key T) uint32 {
	h0, h1 := uint32(0xa53c965a), uint32(0x5ca6953a)
	s0, s1 := 6, 18
	for i := 0; i < len(key); i++ {
		t := uint32(key[i])
		h0 = ^(h0 ^ t)
		h1 = ^(h1 + t)
		x := bits.RotateLeft32(h1, s0)
		h1 = bits.RotateLeft32(h0, s1)
		h0 = x
		y := ((h0 >> 16) ^ h1) & 0xffff
		s0 = int(y & 31)
		s1 = int(y >> 11)
	}
	return h0 ^ h1
}

var crcTable = crc32.MakeTable(crc32.IEEE)

// CRC32 is the IEEE CRC-32, as zlib's crc32().
func CRC32(key []byte) uint32 { return crc32.ChecksumIEEE(key) }

func crc32Of[T bytestring](key T) uint32 {
	c := ^uint32(0)
	for i := 0; i < len(key); i++ {
		c = crcTable[byte(c)^key[i]] ^ (c >> 8)
	}
	return ^c
}

// HashAsInt is the "none" function: the key is read as a signed decimal
// integer (optional sign, up to the first non-digit), truncated to 32 bits.
func HashAsInt(key []byte) uint32 { return asInt(key) }

func asInt[T bytestring](key T) uint32 {
	var v uint64
	neg := false
	i := 0
	if i < len(key) && (key[i] == '-' || key[i] == '+') {
		neg = key[i] == '-'
		i++
	}
	for ; i < len(key) && key[i] >= '0' && key[i] <= '9'; i++ {
		v = v*10 + uint64(key[i]-'0')
	}
	if neg {
		v = -v
	}
	return uint32(v)
}

// FullHash is HAProxy's full_hash "avalanche": Bob Jenkins' 6-shift
// integer hash followed by a multiply. It is a bijection on 32-bit values.
func FullHash(a uint32) uint32 {
	a = (a + 0x7ed55d16) + (a << 12)
	a = (a ^ 0xc761c23c) ^ (a >> 19)
	a = (a + 0x165667b1) + (a << 5)
	a = (a + 0xd3a2646c) ^ (a << 9)
	a = (a + 0xfd7046c5) + (a << 3)
	a = (a ^ 0xb55a4f09) ^ (a >> 16)
	return a * 3221225473
}
