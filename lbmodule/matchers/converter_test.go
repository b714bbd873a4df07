package matchers

import "testing"

// TestConverters checks each converter on samples whose results HAProxy
// 2.6 gave for the same expressions.
func TestConverters(t *testing.T) {
	entries := [][2]string{{"a.example.com", "backA"}, {"b.example.com", "backB x"}, {"/a", "short"}, {"/api", "api"}, {"a.example.com", "dup"}, {"/api", "api2"}}
	for _, tt := range []struct {
		conv   Converter
		in     string
		want   string
		wantOK bool
	}{
		{Converter{Name: "word", Args: []string{"2", "/"}}, "/osm//12/34.png", "12", true},
		{Converter{Name: "word", Args: []string{"-1", "/"}}, "/osm//12/34.png", "34.png", true},
		{Converter{Name: "word", Args: []string{"9", "/"}}, "/a/b", "", true},
		{Converter{Name: "field", Args: []string{"2", "/"}}, "/osm//12/34.png", "osm", true},
		{Converter{Name: "field", Args: []string{"3", "/"}}, "/osm//12/34.png", "", true},
		{Converter{Name: "field", Args: []string{"-1", "/"}}, "/a/b/", "", true},
		{Converter{Name: "field", Args: []string{"9", "/"}}, "/a/b", "", false},
		{Converter{Name: "lower"}, "A.Example.COM", "a.example.com", true},
		{Converter{Name: "upper"}, "/osm/x.png", "/OSM/X.PNG", true},
		{Converter{Name: "hex"}, "/api/x", "2F6170692F78", true},
		{Converter{Name: "base64"}, "/api/x", "L2FwaS94", true},
		{Converter{Name: "length"}, "/osm//12/34.png", "15", true},
		{Converter{Name: "regsub", Args: []string{"/+", "_", "g"}}, "/osm//12/34.png", "_osm_12_34.png", true},
		{Converter{Name: "regsub", Args: []string{"/+", "_"}}, "/osm//12", "_osm//12", true},
		{Converter{Name: "regsub", Args: []string{"(o)(s)", `\2\1$`}}, "/osm", "/so$m", true},
		{Converter{Name: "map", Args: []string{"m"}, Entries: entries}, "a.example.com", "backA", true},
		{Converter{Name: "map", Args: []string{"m"}, Entries: entries}, "zz", "", false},
		{Converter{Name: "map_str", Args: []string{"m", "dflt"}, Entries: entries}, "zz", "dflt", true},
		{Converter{Name: "map_beg", Args: []string{"m"}, Entries: entries}, "/api/x", "api", true},
		{Converter{Name: "map_beg", Args: []string{"m"}, Entries: entries}, "/ab", "short", true},
	} {
		c := tt.conv
		if err := c.provision(); err != nil {
			t.Fatalf("%s%v: %v", c.Name, c.Args, err)
		}
		got, ok := c.apply(stringSample(tt.in))
		if ok != tt.wantOK || ok && got.String() != tt.want {
			t.Errorf("%s%v(%q) = %q, %v; want %q, %v", c.Name, c.Args, tt.in, got.String(), ok, tt.want, tt.wantOK)
		}
	}
}

// TestReadMapFile checks the map file syntax: comments, blank lines,
// leading blanks, and values that hold blanks.
func TestReadMapFile(t *testing.T) {
	got := ReadMapFile("# c\n\n  a.example.com  backA\nb.example.com\tbackB x \r\nlonely\n")
	want := [][2]string{{"a.example.com", "backA"}, {"b.example.com", "backB x"}, {"lonely", ""}}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

// TestConverterArguments checks that bad arguments are refused.
func TestConverterArguments(t *testing.T) {
	for _, c := range []Converter{
		{Name: "word", Args: []string{"0", "/"}}, {Name: "word", Args: []string{"x", "/"}}, {Name: "field", Args: []string{"1"}},
		{Name: "regsub", Args: []string{"(", "x"}}, {Name: "regsub", Args: []string{"a", "b", "z"}}, {Name: "lower", Args: []string{"x"}},
		{Name: "map"}, {Name: "sha1"},
	} {
		if err := c.provision(); err == nil {
			t.Errorf("%s%v: accepted", c.Name, c.Args)
		}
	}
}
