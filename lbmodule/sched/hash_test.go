package sched

import (
	"hash/crc32"
	"testing"
)

func TestHashVectors(t *testing.T) {
	tests := []struct {
		in                   string
		sdbm, djb2, wt6, crc uint32
	}{
		{"", 0, 5381, 4187620192, 0},
		{"a", 97, 177670, 1900802597, 3904355907},
		{"/index.html", 858007926, 3776231887, 822151038, 3928116034},
		{"hello world", 430867652, 894552257, 1866899626, 222957957},
		{"192.168.1.10", 1545888635, 480782620, 3258579172, 260560567},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			f    HashFunction
			want uint32
		}{{HashSDBM, tt.sdbm}, {HashDJB2, tt.djb2}, {HashWT6, tt.wt6}, {HashCRC32, tt.crc}} {
			if got := c.f.Sum([]byte(tt.in)); got != c.want {
				t.Errorf("%s(%q) = %d, want %d", c.f, tt.in, got, c.want)
			}
			if got := c.f.SumString(tt.in); got != c.want {
				t.Errorf("%s string(%q) = %d, want %d", c.f, tt.in, got, c.want)
			}
		}
		if got, want := CRC32([]byte(tt.in)), crc32.ChecksumIEEE([]byte(tt.in)); got != want {
			t.Errorf("CRC32(%q) = %d, want %d", tt.in, got, want)
		}
	}
}

func TestFullHashVectors(t *testing.T) {
	for _, tt := range []struct{ in, want uint32 }{
		{0, 2874071335}, {1, 881230262}, {167772161, 715288146}, {4096, 1237450891}, {8192, 1079705203},
	} {
		if got := FullHash(tt.in); got != tt.want {
			t.Errorf("FullHash(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestHashNone(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint32
	}{
		{"42", 42}, {"-1", 0xffffffff}, {"+7x", 7}, {"abc", 0}, {"4294967297", 1}, {"", 0},
	} {
		if got := HashNone.SumString(tt.in); got != tt.want {
			t.Errorf("none(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
