package matchers

import "testing"

// TestNormalizeURI checks each normalizer on targets whose results HAProxy
// 2.6 gave.
func TestNormalizeURI(t *testing.T) {
	for _, tt := range []struct {
		n       NormalizeURI
		in, out string
	}{
		{NormalizeURI{Normalizer: "path-merge-slashes"}, "//a///b//?x=//y", "/a/b/?x=//y"},
		{NormalizeURI{Normalizer: "path-merge-slashes"}, "http://h/a//./../b?z&y", "http://h/a/./../b?z&y"},
		{NormalizeURI{Normalizer: "path-strip-dot"}, "/./a/./b/.", "/a/b/"},
		{NormalizeURI{Normalizer: "path-strip-dot"}, "/a/.b/..c/./", "/a/.b/..c/"},
		{NormalizeURI{Normalizer: "path-strip-dot"}, "/a/./../b/.?/./", "/a/../b/?/./"},
		{NormalizeURI{Normalizer: "path-strip-dotdot"}, "/a/b/../c", "/a/c"},
		{NormalizeURI{Normalizer: "path-strip-dotdot"}, "/a/b/..", "/a/"},
		{NormalizeURI{Normalizer: "path-strip-dotdot"}, "/../a", "/../a"},
		{NormalizeURI{Normalizer: "path-strip-dotdot"}, "/..", "/../"},
		{NormalizeURI{Normalizer: "path-strip-dotdot"}, "/a/b/../../../c/", "/../c/"},
		{NormalizeURI{Normalizer: "path-strip-dotdot"}, "/a/./../b/.?/./", "/a/b/.?/./"},
		{NormalizeURI{Normalizer: "path-strip-dotdot", Full: true}, "/a/../../b", "/b"},
		{NormalizeURI{Normalizer: "path-strip-dotdot", Full: true}, "/..", "/"},
		{NormalizeURI{Normalizer: "percent-decode-unreserved"}, "/%61%7e%2f%41%2D%3a?q=%61%7e", "/a~%2fA-%3a?q=a~"},
		{NormalizeURI{Normalizer: "percent-decode-unreserved"}, "/a/%2e%2E/b%2", "/a/../b%2"},
		{NormalizeURI{Normalizer: "percent-to-uppercase"}, "/%3a%2f%e2%82%ac%5a?q=%7e%zz", "/%3A%2F%E2%82%AC%5A?q=%7E%zz"},
		{NormalizeURI{Normalizer: "query-sort-by-name"}, "/x?b=2&a=1&b=1&a&c=3;d", "/x?a=1&a&b=2&b=1&c=3;d"},
		{NormalizeURI{Normalizer: "query-sort-by-name"}, "/x?&&a", "/x?&&a"},
		{NormalizeURI{Normalizer: "query-sort-by-name"}, "/x", "/x"},
	} {
		if err := tt.n.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := tt.n.normalize(tt.in); got != tt.out {
			t.Errorf("%s full=%v %q = %q, want %q", tt.n.Normalizer, tt.n.Full, tt.in, got, tt.out)
		}
	}
}
