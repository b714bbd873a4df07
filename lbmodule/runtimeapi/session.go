package runtimeapi

import (
	"bufio"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"time"
)

// defaultTimeout is how long a session may stay idle: HAProxy's default
// "stats timeout", 10s.
const defaultTimeout = 10 * time.Second

// maxLine bounds a command line, as HAProxy's buffer does.
const maxLine = 64 << 10

// session is one connection to the runtime API: its level, which
// "operator" and "user" lower, and whether "prompt" made it interactive.
type session struct {
	level       Level
	interactive bool
	quit        bool
	timeout     time.Duration
}

// Exec runs one command line (commands separated by ';') at the given
// level, as a client that sends the line and reads until the connection
// closes would see it.
func Exec(level Level, line string) string {
	s := &session{level: level, timeout: defaultTimeout}
	var out strings.Builder
	s.runLine(&out, line)
	return out.String()
}

// serve talks to one client: without "prompt" it runs the lines received
// so far and closes; in interactive mode it runs lines until "quit", end
// of input or the idle timeout.
func serve(conn net.Conn, level Level, timeout time.Duration) {
	defer conn.Close()
	s := &session{level: level, timeout: timeout}
	r := bufio.NewReaderSize(conn, 4096)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(s.timeout))
		line, err := readLine(r)
		if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
			return
		}
		var out strings.Builder
		s.runLine(&out, line)
		_ = conn.SetWriteDeadline(time.Now().Add(s.timeout))
		if _, werr := io.WriteString(conn, out.String()); werr != nil {
			return
		}
		if s.quit || err != nil || (!s.interactive && r.Buffered() == 0) {
			return
		}
	}
}

// readLine reads up to a newline, which it drops with a carriage return
// before it.
func readLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		chunk, err := r.ReadSlice('\n')
		b.Write(chunk)
		if b.Len() > maxLine {
			return "", errors.New("line too long")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		line := strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n"), "\r")
		return line, err
	}
}

// runLine runs each command of a line. Every answer ends with an empty
// line; in interactive mode a "> " prompt follows it.
func (s *session) runLine(out *strings.Builder, line string) {
	for _, cmd := range splitCommands(line) {
		words := splitWords(cmd)
		var w strings.Builder
		s.run(&w, words)
		if s.quit {
			return
		}
		out.WriteString(w.String())
		out.WriteByte('\n')
		if s.interactive {
			out.WriteString("> ")
		}
	}
}

func (s *session) run(w *strings.Builder, words []string) {
	if len(words) == 0 {
		writeHelp(w, "Unknown command. Please enter one of the following commands only:", nil)
		return
	}
	c, args := lookup(words)
	switch {
	case c == nil:
		writeHelp(w, "Unknown command, but maybe one of the following ones is a better match:", closest(words))
	case s.level < c.level:
		w.WriteString(msgDenied)
	default:
		c.run(s, args, w)
	}
}

// closest returns the help prefix for an unknown command: its longest
// run of first words that some command starts with, else everything.
func closest(words []string) []string {
	for n := len(words); n > 0; n-- {
		for _, c := range commands {
			if len(c.words) >= n && slices.Equal(c.words[:n], words[:n]) {
				return words[:n]
			}
		}
	}
	return nil
}

// splitCommands splits a line at the semicolons that no backslash
// escapes.
func splitCommands(line string) []string {
	var cmds []string
	start := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case ';':
			cmds = append(cmds, line[start:i])
			start = i + 1
		}
	}
	return append(cmds, line[start:])
}

// splitWords splits a command at unescaped spaces and tabs, and removes
// the backslashes that escape a character.
func splitWords(cmd string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case c == '\\' && i+1 < len(cmd):
			i++
			cur.WriteByte(cmd[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
