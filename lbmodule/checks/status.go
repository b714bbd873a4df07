package checks

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// Code is a check status, as HAProxy's stats page shows it (check_status).
type Code string

// Check status codes.
const (
	Unknown      Code = "UNK"
	Initializing Code = "INI"
	SockErr      Code = "SOCKERR"
	L4OK         Code = "L4OK"
	L4TOUT       Code = "L4TOUT"
	L4CON        Code = "L4CON"
	L6OK         Code = "L6OK"
	L6TOUT       Code = "L6TOUT"
	L6RSP        Code = "L6RSP"
	L7OK         Code = "L7OK"
	L7OKC        Code = "L7OKC"
	L7TOUT       Code = "L7TOUT"
	L7RSP        Code = "L7RSP"
	L7STS        Code = "L7STS"
	// Checked is an agent answer that changes no health state.
	Checked Code = "CHECKED"
)

var descriptions = map[Code]string{
	Unknown:      "Unknown",
	Initializing: "Initializing",
	SockErr:      "Socket error",
	L4OK:         "Layer4 check passed",
	L4TOUT:       "Layer4 timeout",
	L4CON:        "Layer4 connection problem",
	L6OK:         "Layer6 check passed",
	L6TOUT:       "Layer6 timeout",
	L6RSP:        "Layer6 invalid response",
	L7OK:         "Layer7 check passed",
	L7OKC:        "Layer7 check conditionally passed",
	L7TOUT:       "Layer7 timeout",
	L7RSP:        "Layer7 invalid response",
	L7STS:        "Layer7 wrong status",
	Checked:      "No status change",
}

// Description is HAProxy's wording of the code, e.g. "Layer4 connection
// problem" (the stats page's check_desc).
func (c Code) Description() string {
	if d, ok := descriptions[c]; ok {
		return d
	}
	return descriptions[Unknown]
}

// Passed reports whether the code is a successful check (a conditional
// pass included).
func (c Code) Passed() bool {
	switch c {
	case L4OK, L6OK, L7OK, L7OKC:
		return true
	}
	return false
}

// hasCode reports whether HAProxy shows a response code with the status:
// the layer-7 statuses that read a response.
func (c Code) hasCode() bool {
	switch c {
	case L7OK, L7OKC, L7STS:
		return true
	}
	return false
}

// Result is the outcome of one check.
type Result struct {
	// Code is the status, e.g. L4OK or L7STS.
	Code Code
	// HTTPCode is the response code of an HTTP check (0 when none).
	HTTPCode int
	// Info is the detail text, e.g. "Connection refused" or the reason
	// phrase of a wrong HTTP status.
	Info string
	// Duration is how long the check took.
	Duration time.Duration
}

// describe appends HAProxy's ", reason: …, code: …, info: "…", check
// duration: …ms" to b.
func (r Result) describe(b *strings.Builder) {
	b.WriteString(", reason: ")
	b.WriteString(r.Code.Description())
	if r.Code.hasCode() {
		b.WriteString(", code: ")
		b.WriteString(itoa(r.HTTPCode))
	}
	if r.Info != "" {
		b.WriteString(`, info: "`)
		b.WriteString(asciiEncode(r.Info))
		b.WriteString(`"`)
	}
	b.WriteString(", check duration: ")
	b.WriteString(itoa(int(r.Duration / time.Millisecond)))
	b.WriteString("ms")
}

// asciiEncode writes non-printable bytes, '<', '>' and double quotes as
// "<XX>", the way HAProxy puts check details into logs.
func asciiEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' {
			const hexd = "0123456789ABCDEF"
			b.WriteByte('<')
			b.WriteByte(hexd[c>>4])
			b.WriteByte(hexd[c&15])
			b.WriteByte('>')
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// errnoText returns the C library's message for the system error in err
// ("Connection refused"), or "" when err carries none.
func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s == "" {
			return ""
		}
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return ""
}

// isTimeout reports whether err is a deadline or timeout error.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isEOF reports whether err is the peer closing the connection.
func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
