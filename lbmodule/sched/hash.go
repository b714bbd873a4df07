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
func (f HashFunction) Sum(key []byte) uint32 {
	switch f {
	case HashDJB2:
		return DJB2(key)
	case HashWT6:
		return WT6(key)
	case HashCRC32:
		return crc32.ChecksumIEEE(key)
	case HashNone:
		return HashAsInt(key)
	}
	return SDBM(key)
}

// SumString is Sum for a string key, without converting it.
func (f HashFunction) SumString(key string) uint32 {
	switch f {
	case HashDJB2:
		return djb2String(key)
	case HashWT6:
		return wt6String(key)
	case HashCRC32:
		return crc32String(key)
	case HashNone:
		return hashAsIntString(key)
	}
	return sdbmString(key)
}

// SDBM is the sdbm hash (HAProxy's default).
func SDBM(key []byte) uint32 {
	var h uint32
	for _, c := range key {
		h = uint32(c) + (h << 6) + (h << 16) - h
	}
	return h
}

func sdbmString(key string) uint32 {
	var h uint32
	for i := 0; i < len(key); i++ {
		h = uint32(key[i]) + (h << 6) + (h << 16) - h
	}
	return h
}

// DJB2 is Bernstein's hash.
func DJB2(key []byte) uint32 {
	h := uint32(5381)
	for _, c := range key {
		h = h*33 + uint32(c)
	}
	return h
}

func djb2String(key string) uint32 {
	h := uint32(5381)
	for i := 0; i < len(key); i++ {
		h = h*33 + uint32(key[i])
	}
	return h
}

// WT6 is Willy Tarreau's wt6 hash.
func WT6(key []byte) uint32 {
	w := newWT6()
	for _, c := range key {
		w.add(c)
	}
	return w.h0 ^ w.h1
}

func wt6String(key string) uint32 {
	w := newWT6()
	for i := 0; i < len(key); i++ {
		w.add(key[i])
	}
	return w.h0 ^ w.h1
}

type wt6State struct {
	h0, h1 uint32
	s0, s1 int
}

func newWT6() wt6State { return wt6State{h0: 0xa53c965a, h1: 0x5ca6953a, s0: 6, s1: 18} }

func (w *wt6State) add(c byte) {
	t := uint32(c)
	w.h0 = ^(w.h0 ^ t)
	w.h1 = ^(w.h1 + t)
	x := bits.RotateLeft32(w.h1, w.s0)
	w.h1 = bits.RotateLeft32(w.h0, w.s1)
	w.h0 = x
	y := ((w.h0 >> 16) ^ w.h1) & 0xffff
	w.s0 = int(y & 31)
	w.s1 = int(y >> 11)
}

var crcTable = crc32.MakeTable(crc32.IEEE)

// crc32String is crc32.ChecksumIEEE without converting the string.
func crc32String(key string) uint32 {
	c := ^uint32(0)
	for i := 0; i < len(key); i++ {
		c = crcTable[byte(c)^key[i]] ^ (c >> 8)
	}
	return ^c
}

// HashAsInt is the "none" function: the key is read as a signed decimal
// integer (optional sign, up to the first non-digit), truncated to 32 bits.
func HashAsInt(key []byte) uint32 {
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

func hashAsIntString(key string) uint32 {
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
