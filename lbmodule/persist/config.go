// Package persist implements HAProxy's cookie persistence ("cookie" in a
// backend, "cookie <value>" on its servers) on plain net/http values: it
// reads the persistence cookie of a request and picks the server it names,
// strips what HAProxy strips before the request reaches the server, and
// rewrites the response's Set-Cookie headers (insert, rewrite and prefix
// modes, dates for maxidle and maxlife, nocache) byte for byte as HAProxy
// 2.6 does. It knows nothing of Caddy; the lbmodule package connects it to
// the selection policy.
package persist

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cookie modes, as HAProxy's keywords.
const (
	// ModePassive only reads the cookie: the application sets it.
	ModePassive = ""
	// ModeInsert has the proxy set the cookie in responses.
	ModeInsert = "insert"
	// ModeRewrite replaces the value of a cookie the server sets.
	ModeRewrite = "rewrite"
	// ModePrefix prefixes the server's own cookie with the server's value
	// and "~".
	ModePrefix = "prefix"
)

// Config is the JSON form of a backend's "cookie" line.
type Config struct {
	// Name is the cookie's name, matched case-sensitively.
	Name string `json:"name"`
	// Mode is "insert", "rewrite", "prefix", or empty for a passive cookie
	// that is only read.
	Mode string `json:"mode,omitempty"`
	// Indirect: in insert mode the cookie is removed from requests before
	// they reach the server, and a cookie the server sets in reply to a
	// request that named it is removed from the response.
	Indirect bool `json:"indirect,omitempty"`
	// NoCache adds "Cache-control: private" to a cacheable response that
	// gets an inserted cookie, so shared caches do not store it.
	NoCache bool `json:"nocache,omitempty"`
	// PostOnly inserts the cookie in responses to POST requests only.
	PostOnly bool `json:"postonly,omitempty"`
	// Preserve leaves a cookie the server sets untouched, and inserts none
	// in that response.
	Preserve bool `json:"preserve,omitempty"`
	// HTTPOnly and Secure add those attributes to an inserted cookie.
	HTTPOnly bool `json:"httponly,omitempty"`
	Secure   bool `json:"secure,omitempty"`
	// Domains adds one "domain=" attribute per entry to an inserted cookie.
	Domains []string `json:"domains,omitempty"`
	// MaxIdle ignores a cookie last seen longer ago than this, and makes
	// the inserted cookie carry its last-seen date. HAProxy counts whole
	// seconds.
	MaxIdle Duration `json:"maxidle,omitempty"`
	// MaxLife ignores a cookie first set longer ago than this, and makes
	// the inserted cookie carry its first-set date.
	MaxLife Duration `json:"maxlife,omitempty"`
	// Dynamic gives servers without a cookie value one computed from
	// DynamicKey and the server's IP address and port.
	Dynamic bool `json:"dynamic,omitempty"`
	// DynamicKey is the backend's dynamic-cookie-key secret.
	DynamicKey string `json:"dynamic_key,omitempty"`
	// Attrs are extra attributes appended to an inserted cookie, as
	// written (e.g. "SameSite=Lax").
	Attrs []string `json:"attrs,omitempty"`
}

// Validate reports a configuration HAProxy refuses.
func (c *Config) Validate() error {
	if c.Name == "" {
		return fmt.Errorf("cookie: missing name")
	}
	if !validToken(c.Name) {
		return fmt.Errorf("cookie %q: invalid name", c.Name)
	}
	switch c.Mode {
	case ModePassive, ModeInsert, ModeRewrite, ModePrefix:
	default:
		return fmt.Errorf("cookie %q: unknown mode %q (want insert, rewrite or prefix)", c.Name, c.Mode)
	}
	if c.Mode == ModeRewrite && c.Indirect {
		return fmt.Errorf("cookie %q: rewrite and indirect are incompatible", c.Name)
	}
	if c.Preserve && c.Mode != ModeInsert && !c.Indirect {
		return fmt.Errorf("cookie %q: preserve requires insert or indirect", c.Name)
	}
	if c.MaxIdle < 0 || c.MaxLife < 0 {
		return fmt.Errorf("cookie %q: negative maxidle or maxlife", c.Name)
	}
	for _, a := range c.Attrs {
		if strings.ContainsAny(a, ";\r\n") || hasControl(a) {
			return fmt.Errorf("cookie %q: attr %q: attributes may not contain ';' or control characters", c.Name, a)
		}
	}
	return nil
}

// maxIdle and maxLife are the limits in whole seconds, as HAProxy keeps
// them; 0 means unset.
func (c *Config) maxIdle() int64 { return int64(time.Duration(c.MaxIdle) / time.Second) }
func (c *Config) maxLife() int64 { return int64(time.Duration(c.MaxLife) / time.Second) }

func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b <= ' ' || b >= 0x7f:
			return false
		case strings.IndexByte("()<>@,;:\\\"/[]?={}", b) >= 0:
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// Duration is a time.Duration that reads and writes JSON as Caddy does: a
// string like "30m" or "2h", or an integer number of nanoseconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string (with Go's units, plus "d" for
// days) or an integer number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := parseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("duration %s: want a string like \"30m\" or an integer of nanoseconds", b)
	}
	*d = Duration(n)
	return nil
}

// parseDuration accepts Go durations and whole days ("1d", "1d12h").
func parseDuration(s string) (time.Duration, error) {
	days := time.Duration(0)
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return days + v, nil
}
