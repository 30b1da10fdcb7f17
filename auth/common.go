package auth

import (
	_ "embed"
	"strings"
	"sync"
)

// commonPasswordsText is the list of common passwords, one a line, lower
// case; lines starting with # are comments (the file says where it comes
// from). It is embedded so that the policy is the same on every instance
// and needs no file at run time.
//
//go:embed common_passwords.txt
var commonPasswordsText string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 5000)
	for line := range strings.Lines(commonPasswordsText) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[line] = struct{}{}
	}
	return set
})

// padding is what people put around a common password to pass a length
// rule: digits, symbols and spaces ("Dragon2024!", "!!password123").
const padding = "0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¡¿"

// CommonPassword reports whether pw, ignoring case, is on the embedded list
// of common passwords, or is one of them with only digits, symbols or
// spaces before or after it.
func CommonPassword(pw string) bool {
	set := commonPasswords()
	folded := strings.ToLower(pw)
	if _, ok := set[folded]; ok {
		return true
	}
	if core := strings.Trim(folded, padding); core != "" && core != folded {
		if _, ok := set[core]; ok {
			return true
		}
	}
	return false
}
