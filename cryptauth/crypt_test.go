package cryptauth

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// glibcVectors were produced by the C library's crypt() (libxcrypt, the one
// HAProxy links on Debian), through Python's crypt module.
var glibcVectors = []struct{ password, hash string }{
	{"password", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"},
	{"x", "$1$$LP5.V3ajGqHDdXW6XwZQy."},
	{"", "$1$a$8CfZSfErbeskipdhZHtvu."},
	{"a much longer password of more than sixteen bytes, over 32 too: 0123456789", "$1$./09AZaz$oYxuSpAwlf8wkeADcv0ur0"},
	{"Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
	{"pw", "$5$rounds=1000$ab$pvoBecalA78StTh86CqG8MsZcI1O/fpecpCjMGNmZ.A"},
	{"secret", "$5$rounds=5000$0123456789abcdef$r6nzC5LUC0uVXFw52gWstJ181ms.XFW71j20yui2zG7"},
	{"", "$5$$3c2QQ0KjIU1OLtB29cl8Fplc2WN7X89bnoEjaR7tWu."},
	{strings.Repeat("p", 70), "$5$x$kAthfhjRuEHmbbOLKnE65.LsjgONTfL0e0M6nUV4sqD"},
	{"Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
	{"pw", "$6$rounds=1000$ab$8/vdebh7.eIeNufFrLK0jMMqafLdKpZbPY1ppG7x22R2yDSMj7XkxuEn2jtBuNS.VYAmIhpV6haXB82POC/MC0"},
	{"secret", "$6$rounds=5000$Zz./$JizV40npM/UTKXdj2du.Eop3iU6moL6Wi7Y1gwIdKNc/fzGa3jQgWnGkmt2iHfJIpItXDQFG8O9LHtNAMqIOD1"},
	{"", "$6$$/chiBau24cE26QQVW3IfIe68Xu5.JQ4E8Ie7lcRLwqxO5cxGuBhqF2HmTL.zWJ9zjChg3yJYFXeGBQ2y3Ba1d1"},
	{strings.Repeat("p", 130), "$6$0123456789abcdef$JECTHj31aYreqMf0wEeM.DHP.hYYoZmiefREarhSh8Ty438I81hOK3RY99RrvHd9H/.tGv.Wfk7gkyZbBpj/S/"},
	{"é ü", "$6$rounds=1234$s$hihnzAHku2qnjtXQWzhaYRrmJ3jJf5z0sK8KsMP3V4hz.ow4PfjUHr5..37Jykb7cWT2rYyf5TQDgS4094twe."},
	{"antitiming", fakeHash},
}

func TestVerifyGlibcVectors(t *testing.T) {
	for _, v := range glibcVectors {
		ok, err := Verify([]byte(v.hash), []byte(v.password))
		if err != nil || !ok {
			t.Errorf("Verify(%q, %q) = %v, %v; want true", v.hash, v.password, ok, err)
		}
		ok, err = Verify([]byte(v.hash), []byte(v.password+"x"))
		if err != nil || ok {
			t.Errorf("Verify(%q, wrong password) = %v, %v; want false", v.hash, ok, err)
		}
		if err := Check(v.hash); err != nil {
			t.Errorf("Check(%q) = %v", v.hash, err)
		}
	}
}

// TestVerifyOpenSSL compares with hashes that openssl passwd computes for
// passwords and salts of every length up to the schemes' limits.
func TestVerifyOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	for _, scheme := range []string{"1", "5", "6"} {
		maxSalt := 16
		if scheme == "1" {
			maxSalt = 8
		}
		for n := 1; n <= maxSalt; n += 3 {
			salt := "./aZ09xyQRst/.Mn"[:n]
			password := strings.Repeat("pass-", n)
			out, err := exec.Command("openssl", "passwd", "-"+scheme, "-salt", salt, password).Output()
			if err != nil {
				t.Fatalf("openssl passwd -%s: %v", scheme, err)
			}
			hash := strings.TrimSpace(string(out))
			ok, err := Verify([]byte(hash), []byte(password))
			if err != nil || !ok {
				t.Errorf("Verify(%q, %q) = %v, %v; want true", hash, password, ok, err)
			}
		}
	}
}

func TestCheckRefusesWhatCryptCannotReproduce(t *testing.T) {
	for _, hash := range []string{
		"abzlUXK5ed5rs",  // traditional DES
		"$y$j9T$abc$def", // yescrypt
		"$5$rounds=999$abc$pvoBecalA78StTh86CqG8MsZcI1O/fpecpCjMGNmZ.A",
		"$5$rounds=05000$abc$pvoBecalA78StTh86CqG8MsZcI1O/fpecpCjMGNmZ.A",
		"$6$rounds=1000000000$abc$" + strings.Repeat("a", 86),
		"$5$rounds=1000",
		"$5$abcdefghijklmnopq$pvoBecalA78StTh86CqG8MsZcI1O/fpecpCjMGNmZ.A", // 17-character salt
		"$1$abcdefghi$LP5.V3ajGqHDdXW6XwZQy.",                              // 9-character salt
		"$5$ab*c$pvoBecalA78StTh86CqG8MsZcI1O/fpecpCjMGNmZ.A",
		"$1$abc$short",
		"$6$abc",
		"$2b$04$tooshort",
	} {
		if err := Check(hash); err == nil {
			t.Errorf("Check(%q) = nil, want an error", hash)
		}
		if ok, _ := Verify([]byte(hash), []byte("pw")); ok {
			t.Errorf("Verify(%q) = true", hash)
		}
	}
}

func TestHashRoundTrip(t *testing.T) {
	var h Hash
	a, err := h.Hash([]byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.Hash([]byte("s3cret"))
	if string(a) == string(b) {
		t.Errorf("two hashes share a salt: %s", a)
	}
	for _, c := range []struct {
		password string
		want     bool
	}{{"s3cret", true}, {"s3creT", false}, {"", false}} {
		if ok, err := h.Compare(a, []byte(c.password)); ok != c.want || err != nil {
			t.Errorf("Compare(%s, %q) = %v, %v; want %v", a, c.password, ok, err, c.want)
		}
	}
	if err := Check(string(a)); err != nil {
		t.Errorf("Check(%s) = %v", a, err)
	}
}

func TestVerifyBcrypt(t *testing.T) {
	const hash = "$2b$04$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09MlzlW" // crypt("pw", "$2b$04$abcdefghijklmnopqrstuu")
	for _, c := range []struct {
		password string
		want     bool
	}{{"pw", true}, {"pW", false}} {
		if ok, err := Verify([]byte(hash), []byte(c.password)); ok != c.want || err != nil {
			t.Errorf("Verify(bcrypt, %q) = %v, %v; want %v", c.password, ok, err, c.want)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, hash := range []string{glibcVectors[0].hash, glibcVectors[4].hash, glibcVectors[9].hash} {
		b.Run(fmt.Sprint(hash[:3]), func(b *testing.B) {
			for b.Loop() {
				Verify([]byte(hash), []byte("wrong"))
			}
		})
	}
}
