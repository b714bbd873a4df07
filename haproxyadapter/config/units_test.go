package config

import (
	"slices"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		unit time.Duration
		want time.Duration
		err  string
	}{
		{"100", time.Millisecond, 100 * time.Millisecond, ""},
		{"100", time.Second, 100 * time.Second, ""},
		{"250us", time.Millisecond, 250 * time.Microsecond, ""},
		{"5ms", time.Second, 5 * time.Millisecond, ""},
		{"5s", time.Millisecond, 5 * time.Second, ""},
		{"2m", time.Millisecond, 2 * time.Minute, ""},
		{"3h", time.Millisecond, 3 * time.Hour, ""},
		{"1d", time.Millisecond, 24 * time.Hour, ""},
		{"0", time.Millisecond, 0, ""},
		{"2147483647", time.Millisecond, 2147483647 * time.Millisecond, ""},
		{"24d", time.Millisecond, 24 * 24 * time.Hour, ""},
		{"2147483648", time.Millisecond, 0, `time "2147483648" is too large (maximum is 2147483647 ms, about 24.8 days)`},
		{"25d", time.Millisecond, 0, `time "25d" is too large (maximum is 2147483647 ms, about 24.8 days)`},
		{"99999999999999999999999", time.Millisecond, 0, `time "99999999999999999999999" is too large (maximum is 2147483647 ms, about 24.8 days)`},
		{"1.5s", time.Millisecond, 0, `invalid time "1.5s": unexpected character '.' (units are us, ms, s, m, h, d)`},
		{"5x", time.Millisecond, 0, `invalid time "5x": unexpected character 'x' (units are us, ms, s, m, h, d)`},
		{"5S", time.Millisecond, 0, `invalid time "5S": unexpected character 'S' (units are us, ms, s, m, h, d)`},
		{"infinite", time.Millisecond, 0, `invalid time "infinite": expected a number with an optional unit (us, ms, s, m, h, d)`},
		{"-5", time.Millisecond, 0, `invalid time "-5": expected a number with an optional unit (us, ms, s, m, h, d)`},
		{"", time.Millisecond, 0, "missing time value"},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, tt.unit)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseTime(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseTime(%q, %v) = %v, %v; want %v", tt.in, tt.unit, got, err, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"0", 0, false},
		{"512", 512, false},
		{"16k", 16 << 10, false},
		{"16K", 16 << 10, false},
		{"4m", 4 << 20, false},
		{"2G", 2 << 30, false},
		{"1.5k", 0, true},
		{"10kb", 0, true},
		{"k", 0, true},
		{"99999999999999999999g", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// TestUnitErrorsInBuild checks that bad values name file:line, keyword and
// value, and that keywords with a seconds default read plain numbers as
// seconds.
func TestUnitErrorsInBuild(t *testing.T) {
	cfg, diags := load(t, `
global
  hard-stop-after 30m
  grace 5x
defaults
  timeout connect 5x
  timeout client 1.5s
  timeout server 25d
  contimeout abc
  retries many
  maxconn 10k
backend b
  cookie S insert maxidle 30 maxlife 1h
  stats refresh 7
  server s 10.0.0.1:80 inter 2x slowstart 10s
`)
	want := []string{
		`t.cfg:4: grace: invalid time "5x": unexpected character 'x' (units are us, ms, s, m, h, d)`,
		`t.cfg:6: timeout connect: invalid time "5x": unexpected character 'x' (units are us, ms, s, m, h, d)`,
		`t.cfg:7: timeout client: invalid time "1.5s": unexpected character '.' (units are us, ms, s, m, h, d)`,
		`t.cfg:8: timeout server: time "25d" is too large (maximum is 2147483647 ms, about 24.8 days)`,
		`t.cfg:9: contimeout: invalid time "abc": expected a number with an optional unit (us, ms, s, m, h, d)`,
		`t.cfg:15: server "s": option "inter": invalid time "2x": unexpected character 'x' (units are us, ms, s, m, h, d)`,
	}
	if got := errorsOf(diags); !slices.Equal(got, want) {
		t.Errorf("errors =\n%q\nwant\n%q", got, want)
	}
	// Plain numbers are read the lax way HAProxy reads them, with a warning.
	for _, w := range []string{
		"t.cfg:10: retries: 'many' is not a number: read as 0, as HAProxy does",
		"t.cfg:11: maxconn: '10k' is not a number: read as 10, as HAProxy does",
	} {
		if !hasDiag(diags, Warning, w) {
			t.Errorf("missing warning %q in %q", w, warningsOf(diags))
		}
	}
	if d := cfg.Defaults[0]; d.Retries != 0 || d.MaxConn != 10 {
		t.Errorf("retries %d maxconn %d, want 0 and 10", d.Retries, d.MaxConn)
	}
	if cfg.Global.HardStopAfter != 30*time.Minute {
		t.Errorf("hard-stop-after = %v", cfg.Global.HardStopAfter)
	}
	b := proxy(t, cfg, "b")
	if b.Cookie.MaxIdle != 30*time.Second || b.Cookie.MaxLife != time.Hour {
		t.Errorf("cookie maxidle/maxlife = %v/%v, want 30s/1h", b.Cookie.MaxIdle, b.Cookie.MaxLife)
	}
	if b.Stats.Refresh != 7*time.Second {
		t.Errorf("stats refresh = %v, want 7s", b.Stats.Refresh)
	}
}
