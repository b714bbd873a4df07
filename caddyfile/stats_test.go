package caddyfile

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestStatsAuthHash checks that the passwords of haproxy_stats' auth lines
// reach basic authentication as bcrypt hashes of themselves.
func TestStatsAuthHash(t *testing.T) {
	body := ":8080 {\n\thaproxy_stats {\n\t\tauth admin:s3cret\n\t\tauth \"ops:a:b c\"\n\t}\n}\n"
	out, err := adapt(t, "Caddyfile", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Routes []struct {
						Handle []struct {
							Routes []struct {
								Handle []struct {
									Providers struct {
										HTTPBasic struct {
											Accounts []struct{ Username, Password string }
										} `json:"http_basic"`
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	accounts := cfg.Apps.HTTP.Servers["srv0"].Routes[0].Handle[0].Routes[0].Handle[0].Providers.HTTPBasic.Accounts
	want := map[string]string{"admin": "s3cret", "ops": "a:b c"}
	if len(accounts) != len(want) {
		t.Fatalf("accounts %+v, want %d", accounts, len(want))
	}
	for _, a := range accounts {
		if err := bcrypt.CompareHashAndPassword([]byte(a.Password), []byte(want[a.Username])); err != nil {
			t.Errorf("user %q: the hash does not match the password: %v", a.Username, err)
		}
	}
}

// TestStatsErrors checks haproxy_stats' syntax errors.
func TestStatsErrors(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"auth admin", `auth: want <user>:<password>, not "admin"`},
		{"refresh soon", `refresh: want a positive duration`},
		{"admin local", `admin: want nothing or a named matcher`},
		{"admin @nowhere", `Caddyfile:3`},
		{"scope", `Caddyfile:3`},
		{"stats uri /x", `unknown subdirective "stats"`},
		{"hide-version now", `Caddyfile:3`},
	} {
		body := ":8080 {\n\thaproxy_stats {\n\t\t" + tc.block + "\n\t}\n}\n"
		if _, err := adapt(t, "Caddyfile", []byte(body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.block, err, tc.want)
		}
	}
}
