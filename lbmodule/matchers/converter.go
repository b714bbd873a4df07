package matchers

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Converter is one HAProxy converter of a sample expression
// ("path,word(2,/)" has the converter word with arguments 2 and /). The
// converters are: lower, upper, length, hex, base64, bool, word(<index>,
// <delimiters>), field(<index>,<delimiters>), regsub(<regex>,<replacement>
// [,<flags>]) and map, map_str and map_beg (<file>[,<default>]).
type Converter struct {
	// Name is the converter's name.
	Name string `json:"name"`
	// Args are its arguments as written; a map converter's first argument
	// names the file (informative: its lines are in Entries).
	Args []string `json:"args,omitempty"`
	// Entries are the lines of a map converter's file, each a key and a
	// value, in file order.
	Entries [][2]string `json:"entries,omitempty"`

	index int
	re    *regexp.Regexp
	repl  string
	all   bool
	exact map[string]string
}

// provision checks the arguments and prepares the converter.
func (c *Converter) provision() error {
	nargs := func(lo, hi int) error {
		if len(c.Args) < lo || len(c.Args) > hi {
			return fmt.Errorf("converter %s takes %d to %d arguments, got %d", c.Name, lo, hi, len(c.Args))
		}
		return nil
	}
	switch c.Name {
	case "lower", "upper", "length", "hex", "base64", "bool":
		return nargs(0, 0)
	case "word", "field":
		if err := nargs(2, 2); err != nil {
			return err
		}
		n, err := strconv.Atoi(c.Args[0])
		if err != nil || n == 0 {
			return fmt.Errorf("converter %s: index %q must be a non-zero integer", c.Name, c.Args[0])
		}
		if c.Args[1] == "" {
			return fmt.Errorf("converter %s needs delimiters", c.Name)
		}
		c.index = n
	case "regsub":
		if err := nargs(2, 3); err != nil {
			return err
		}
		expr := c.Args[0]
		if len(c.Args) == 3 {
			for _, f := range c.Args[2] {
				switch f {
				case 'g':
					c.all = true
				case 'i':
					expr = "(?i)" + expr
				default:
					return fmt.Errorf("converter regsub: unknown flag %q", f)
				}
			}
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return fmt.Errorf("converter regsub: regular expression %q: %v", c.Args[0], err)
		}
		c.re = re
		c.repl = backrefs(c.Args[1])
	case "map", "map_str", "map_beg":
		if err := nargs(1, 2); err != nil {
			return err
		}
		if c.Name != "map_beg" {
			c.exact = make(map[string]string, len(c.Entries))
			for _, e := range c.Entries {
				// The first of duplicate keys wins.
				if _, dup := c.exact[e[0]]; !dup {
					c.exact[e[0]] = e[1]
				}
			}
		}
	default:
		return fmt.Errorf("unknown converter %q", c.Name)
	}
	return nil
}

// outputKind is the kind of sample the converter returns.
func (c *Converter) outputKind() sampleKind {
	switch c.Name {
	case "length":
		return kindInt
	case "bool":
		return kindBool
	}
	return kindString
}

// apply converts a sample; ok is false when the converter yields none.
func (c *Converter) apply(in Sample) (Sample, bool) {
	if c.Name == "bool" {
		if in.kind != kindInt && in.kind != kindBool {
			return Sample{}, false
		}
		return Sample{kind: kindBool, num: boolInt(in.num != 0)}, true
	}
	s := in.String()
	switch c.Name {
	case "lower":
		return stringSample(strings.ToLower(s)), true
	case "upper":
		return stringSample(strings.ToUpper(s)), true
	case "length":
		return intSample(int64(len(s))), true
	case "hex":
		return stringSample(strings.ToUpper(hex.EncodeToString([]byte(s)))), true
	case "base64":
		return stringSample(base64.StdEncoding.EncodeToString([]byte(s))), true
	case "word":
		// Words are the non-empty pieces between delimiters; one out of
		// range is an empty string.
		words := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(c.Args[1], r) })
		v, _ := occurrence(words, c.index)
		return stringSample(v), true
	case "field":
		// Fields may be empty; one out of range is no sample.
		v, ok := occurrence(splitAny(s, c.Args[1]), c.index)
		return stringSample(v), ok
	case "regsub":
		if c.all {
			return stringSample(c.re.ReplaceAllString(s, c.repl)), true
		}
		loc := c.re.FindStringSubmatchIndex(s)
		if loc == nil {
			return stringSample(s), true
		}
		out := c.re.ExpandString(nil, c.repl, s, loc)
		return stringSample(s[:loc[0]] + string(out) + s[loc[1]:]), true
	case "map", "map_str", "map_beg":
		if v, ok := c.lookup(s); ok {
			return stringSample(v), true
		}
		if len(c.Args) == 2 {
			return stringSample(c.Args[1]), true
		}
		return Sample{}, false
	}
	return Sample{}, false
}

// lookup finds a key in a map: exactly, or for map_beg the longest key
// that begins the sample (the first of equal ones), as HAProxy's prefix
// tree does.
func (c *Converter) lookup(s string) (string, bool) {
	if c.exact != nil {
		v, ok := c.exact[s]
		return v, ok
	}
	best := -1
	for i, e := range c.Entries {
		if strings.HasPrefix(s, e[0]) && (best < 0 || len(e[0]) > len(c.Entries[best][0])) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return c.Entries[best][1], true
}

// splitAny cuts s at every byte found in delims, keeping empty pieces.
func splitAny(s, delims string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(delims, s[i]) >= 0 {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// backrefs converts an HAProxy replacement with \N back-references into
// Go's ${N} form, with other dollars kept literal.
func backrefs(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			b.WriteString("${" + string(s[i+1]) + "}")
			i++
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ReadMapFile parses the lines of an HAProxy map file: a key, blanks, and
// the rest of the line as the value; empty lines and lines starting with
// '#' are skipped, leading blanks are removed.
func ReadMapFile(data string) [][2]string {
	var out [][2]string
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimRight(strings.TrimLeft(line, " \t"), "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		key, value := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			key, value = line[:i], strings.Trim(line[i+1:], " \t")
		}
		out = append(out, [2]string{key, value})
	}
	return out
}
