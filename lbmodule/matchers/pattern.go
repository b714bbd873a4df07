package matchers

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Match methods, as HAProxy's "-m" flag names them.
const (
	MatchFound = "found"
	MatchBool  = "bool"
	MatchBin   = "bin"
	MatchInt   = "int"
	MatchIP    = "ip"
	MatchLen   = "len"
	MatchStr   = "str"
	MatchSub   = "sub"
	MatchReg   = "reg"
	MatchBeg   = "beg"
	MatchEnd   = "end"
	MatchDir   = "dir"
	MatchDom   = "dom"
)

// patterns is a compiled list of values for one match method. A sample
// matches when it matches any of them.
type patterns struct {
	method     string
	ignoreCase bool
	strs       []string
	regexps    []*regexp.Regexp
	ranges     []intRange
	prefixes   []netip.Prefix
}

// intRange is an inclusive range; a nil bound is open.
type intRange struct {
	lo, hi       int64
	hasLo, hasHi bool
}

func (r intRange) contains(v int64) bool {
	return (!r.hasLo || v >= r.lo) && (!r.hasHi || v <= r.hi)
}

// compilePatterns prepares values for the match method.
func compilePatterns(method string, ignoreCase bool, values []string) (*patterns, error) {
	p := &patterns{method: method, ignoreCase: ignoreCase}
	switch method {
	case MatchFound, MatchBool:
		if len(values) > 0 {
			return nil, fmt.Errorf("match method %q takes no values", method)
		}
	case MatchStr, MatchSub, MatchBeg, MatchEnd:
		p.strs = values
	case MatchDir, MatchDom:
		delims := "/?"
		if method == MatchDom {
			delims = "/?.:"
		}
		for _, v := range values {
			// Delimiters around a pattern are not part of the word.
			p.strs = append(p.strs, strings.Trim(v, delims))
		}
	case MatchReg:
		for _, v := range values {
			expr := v
			if ignoreCase {
				expr = "(?i)" + expr
			}
			re, err := regexp.Compile(expr)
			if err != nil {
				return nil, fmt.Errorf("regular expression %q: %v", v, err)
			}
			p.regexps = append(p.regexps, re)
		}
	case MatchInt, MatchLen:
		rs, err := ParseIntPatterns(values)
		if err != nil {
			return nil, err
		}
		p.ranges = rs
	case MatchIP:
		for _, v := range values {
			pfx, err := ParseIPPattern(v)
			if err != nil {
				return nil, err
			}
			p.prefixes = append(p.prefixes, pfx)
		}
	default:
		return nil, fmt.Errorf("unknown match method %q", method)
	}
	return p, nil
}

// matchString reports whether a string sample matches.
func (p *patterns) matchString(s string) bool {
	switch p.method {
	case MatchFound:
		return true
	case MatchStr:
		for _, v := range p.strs {
			if s == v || p.ignoreCase && strings.EqualFold(s, v) {
				return true
			}
		}
	case MatchBeg:
		for _, v := range p.strs {
			if len(s) >= len(v) && p.equal(s[:len(v)], v) {
				return true
			}
		}
	case MatchEnd:
		for _, v := range p.strs {
			if len(s) >= len(v) && p.equal(s[len(s)-len(v):], v) {
				return true
			}
		}
	case MatchSub:
		for _, v := range p.strs {
			if p.contains(s, v) {
				return true
			}
		}
	case MatchDir:
		for _, v := range p.strs {
			if matchWord(s, v, "/?", p.ignoreCase) {
				return true
			}
		}
	case MatchDom:
		for _, v := range p.strs {
			if matchWord(s, v, "/?.:", p.ignoreCase) {
				return true
			}
		}
	case MatchReg:
		for _, re := range p.regexps {
			if re.MatchString(s) {
				return true
			}
		}
	case MatchLen:
		return p.matchInt(int64(len(s)))
	}
	return false
}

func (p *patterns) equal(a, b string) bool {
	if p.ignoreCase {
		return strings.EqualFold(a, b)
	}
	return a == b
}

func (p *patterns) contains(s, v string) bool {
	if !p.ignoreCase {
		return strings.Contains(s, v)
	}
	for i := 0; i+len(v) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(v)], v) {
			return true
		}
	}
	return false
}

// matchInt reports whether an integer sample falls in a range.
func (p *patterns) matchInt(v int64) bool {
	if p.method == MatchFound {
		return true
	}
	if p.method == MatchBool {
		return v != 0
	}
	for _, r := range p.ranges {
		if r.contains(v) {
			return true
		}
	}
	return false
}

// matchIP reports whether an address sample is in a network.
func (p *patterns) matchIP(a netip.Addr) bool {
	if p.method == MatchFound {
		return true
	}
	a = a.Unmap()
	for _, pfx := range p.prefixes {
		if pfx.Contains(a) {
			return true
		}
		if a.Is4() && pfx.Addr().Is6() && pfx.Contains(netip.AddrFrom16(a.As16())) {
			// An IPv6 network sees an IPv4 address as ::ffff:a.b.c.d.
			return true
		}
	}
	return false
}

// matchWord reports whether word appears in s between delimiters (or the
// ends of s), as HAProxy's dir and dom methods match.
func matchWord(s, word, delims string, ignoreCase bool) bool {
	if len(word) > len(s) {
		return false
	}
	isDelim := func(c byte) bool { return strings.IndexByte(delims, c) >= 0 }
	mayMatch := true
	for i := 0; i+len(word) <= len(s); i++ {
		if isDelim(s[i]) {
			mayMatch = true
			continue
		}
		if !mayMatch {
			continue
		}
		cand := s[i : i+len(word)]
		eq := cand == word || ignoreCase && strings.EqualFold(cand, word)
		if eq && (i+len(word) == len(s) || isDelim(s[i+len(word)])) {
			return true
		}
		mayMatch = false
	}
	return false
}

// ParseIntPatterns reads HAProxy integer patterns: "N", ranges "A:B", ":B"
// and "A:", and the operators eq, ge, gt, le and lt, which apply to the
// values that follow them.
func ParseIntPatterns(values []string) ([]intRange, error) {
	var out []intRange
	op := ""
	for _, v := range values {
		switch v {
		case "eq", "ge", "gt", "le", "lt":
			op = v
			continue
		}
		if op != "" && op != "eq" {
			n, err := parseInt(v)
			if err != nil {
				return nil, err
			}
			switch op {
			case "ge":
				out = append(out, intRange{lo: n, hasLo: true})
			case "gt":
				out = append(out, intRange{lo: n + 1, hasLo: true})
			case "le":
				out = append(out, intRange{hi: n, hasHi: true})
			case "lt":
				out = append(out, intRange{hi: n - 1, hasHi: true})
			}
			continue
		}
		lo, hi, isRange := strings.Cut(v, ":")
		if op == "eq" && isRange {
			return nil, fmt.Errorf("integer pattern %q: a range cannot follow an operator", v)
		}
		var r intRange
		if lo != "" {
			n, err := parseInt(lo)
			if err != nil {
				return nil, err
			}
			r.lo, r.hasLo = n, true
		}
		if !isRange {
			r.hi, r.hasHi = r.lo, true
		} else if hi != "" {
			n, err := parseInt(hi)
			if err != nil {
				return nil, err
			}
			r.hi, r.hasHi = n, true
		}
		if !r.hasLo && !r.hasHi {
			return nil, fmt.Errorf("integer pattern %q has no bound", v)
		}
		out = append(out, r)
	}
	return out, nil
}

// IntMatcher compiles HAProxy integer patterns (see ParseIntPatterns) into
// a function that reports whether a value matches one of them.
func IntMatcher(values []string) (func(int64) bool, error) {
	ranges, err := ParseIntPatterns(values)
	if err != nil {
		return nil, err
	}
	return func(v int64) bool {
		for _, r := range ranges {
			if r.contains(v) {
				return true
			}
		}
		return false
	}, nil
}

func parseInt(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return n, nil
}

// ParseIPPattern reads an HAProxy address pattern: an IPv4 address (which
// may be abbreviated as inet_aton reads it: "10.12" is 10.0.0.12 and "10/8"
// is 0.0.0.10/8) with an optional mask
// written as a length or in dotted form, or an IPv6 address with an optional
// prefix length. Host names are refused: HAProxy resolves them once at
// startup, which cannot be reproduced exactly.
func ParseIPPattern(v string) (netip.Prefix, error) {
	addr, mask, hasMask := strings.Cut(v, "/")
	if strings.Contains(addr, ":") {
		a, err := netip.ParseAddr(addr)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("invalid IPv6 address %q", v)
		}
		bits := 128
		if hasMask {
			n, err := strconv.Atoi(mask)
			if err != nil || n < 0 || n > 128 {
				return netip.Prefix{}, fmt.Errorf("invalid IPv6 prefix length in %q", v)
			}
			bits = n
		}
		return netip.PrefixFrom(a, bits).Masked(), nil
	}
	a, ok := parseIPv4Loose(addr)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address (host names are not supported in address patterns)", v)
	}
	bits := 32
	if hasMask {
		if n, err := strconv.Atoi(mask); err == nil {
			if n < 0 || n > 32 {
				return netip.Prefix{}, fmt.Errorf("invalid IPv4 mask in %q", v)
			}
			bits = n
		} else {
			m, ok := parseIPv4Strict(mask)
			if !ok {
				return netip.Prefix{}, fmt.Errorf("invalid IPv4 mask in %q", v)
			}
			b := m.As4()
			x := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			n := 0
			for x&0x80000000 != 0 {
				n++
				x <<= 1
			}
			if x != 0 {
				return netip.Prefix{}, fmt.Errorf("non-contiguous IPv4 mask in %q", v)
			}
			bits = n
		}
	}
	return netip.PrefixFrom(a, bits).Masked(), nil
}

func parseIPv4Strict(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	return a, err == nil && a.Is4()
}

// parseIPv4Loose reads IPv4 the way inet_aton does, as HAProxy does for
// patterns: one to four decimal parts, the last of which fills the
// remaining low-order bytes ("10.12" is 10.0.0.12, "127" is 0.0.0.127).
// Octal and hexadecimal parts, which inet_aton also reads, are refused so
// that no pattern means something other than what it seems to say.
func parseIPv4Loose(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 || s == "" {
		return netip.Addr{}, false
	}
	var v uint32
	for i, p := range parts {
		if p == "" || len(p) > 1 && p[0] == '0' || strings.Trim(p, "0123456789") != "" {
			return netip.Addr{}, false
		}
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v |= uint32(n) << (24 - 8*i)
			continue
		}
		// The last part fills the bytes that are left.
		if limit := uint64(1)<<(8*(4-i)) - 1; n > limit {
			return netip.Addr{}, false
		}
		v |= uint32(n)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}
