package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxTimerMS is the largest time HAProxy accepts: its timers are signed
// 32-bit millisecond counts (about 24.8 days).
const maxTimerMS = 2147483647

// timeUnits maps a time suffix to its length.
var timeUnits = map[string]time.Duration{
	"us": time.Microsecond,
	"ms": time.Millisecond,
	"s":  time.Second,
	"m":  time.Minute,
	"h":  time.Hour,
	"d":  24 * time.Hour,
}

// ParseTime reads an HAProxy time value: a non-negative integer with an
// optional unit suffix (us, ms, s, m, h, d). defaultUnit applies when no
// suffix is written (time.Millisecond for most keywords, time.Second for
// "stats refresh" and cookie maxidle/maxlife). Decimals are refused, as in
// HAProxy, and so are values above HAProxy's timer range.
func ParseTime(s string, defaultUnit time.Duration) (time.Duration, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		if s == "" {
			return 0, fmt.Errorf("missing time value")
		}
		return 0, fmt.Errorf("invalid time %q: expected a number with an optional unit (us, ms, s, m, h, d)", s)
	}
	n, err := strconv.ParseUint(s[:i], 10, 63)
	if err != nil {
		return 0, fmt.Errorf("time %q is too large (maximum is 2147483647 ms, about 24.8 days)", s)
	}
	unit := defaultUnit
	if suffix := s[i:]; suffix != "" {
		u, ok := timeUnits[suffix]
		if !ok {
			return 0, fmt.Errorf("invalid time %q: unexpected character %q (units are us, ms, s, m, h, d)", s, suffix[0])
		}
		unit = u
	}
	// Compare in the unit to avoid overflowing time.Duration.
	if n > uint64(maxTimerMS*time.Millisecond/unit)+1 || time.Duration(n)*unit > maxTimerMS*time.Millisecond {
		return 0, fmt.Errorf("time %q is too large (maximum is 2147483647 ms, about 24.8 days)", s)
	}
	return time.Duration(n) * unit, nil
}

// ParseSize reads an HAProxy size: a non-negative integer with an optional
// k, m or g suffix (powers of 1024, case-insensitive).
func ParseSize(s string) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid size %q: expected a number with an optional k, m or g suffix", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	var mult int64 = 1
	switch strings.ToLower(s[i:]) {
	case "":
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	default:
		return 0, fmt.Errorf("invalid size %q: unexpected suffix %q (k, m or g)", s, s[i:])
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// parseInt reads a decimal integer within [lo, hi].
func parseInt(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range (%d..%d)", n, lo, hi)
	}
	return n, nil
}

// parseIntLax reads an integer the way HAProxy's atol() does for most
// numeric keywords: an optional sign and the leading digits, ignoring what
// follows ("10k" is 10, "x" is 0). exact reports whether the whole word was
// a number, so that callers can warn about the rest.
func parseIntLax(s string, lo, hi int) (n int, exact bool, err error) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j > i {
		n, err = strconv.Atoi(s[:j])
		if err != nil {
			return 0, false, fmt.Errorf("number %q is too large", s)
		}
	}
	if n < lo || n > hi {
		return 0, false, fmt.Errorf("%d is out of range (%d..%d)", n, lo, hi)
	}
	return n, j == len(s) && j > i, nil
}
