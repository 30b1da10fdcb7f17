package ingest

import (
	"strings"
	"unicode"
)

// fold normalises text for matching headings and header cells: lower case,
// accents removed (á→a, ñ→n, ü→u), º/° kept, runs of whitespace as one
// space, trimmed. It is used only to compare; extracted values keep the
// document's text.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u00a0' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unaccent(unicode.ToLower(r)))
	}
	return b.String()
}

func unaccent(r rune) rune {
	switch r {
	case 'á', 'à', 'â', 'ä', 'ã':
		return 'a'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'í', 'ì', 'î', 'ï':
		return 'i'
	case 'ó', 'ò', 'ô', 'ö', 'õ':
		return 'o'
	case 'ú', 'ù', 'û', 'ü':
		return 'u'
	case 'ñ':
		return 'n'
	case 'ç':
		return 'c'
	case 'º':
		return '°'
	}
	return r
}

// stripNumber removes a section number such as "1.", "5.1", "10)" or "IV."
// from the start of a folded heading.
func stripNumber(s string) string {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == ')' || s[i] == '-') {
		i++
	}
	return strings.TrimSpace(s[i:])
}

// containsWords reports whether phrase occurs in s at word boundaries.
func containsWords(s, phrase string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], phrase)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(phrase)
		if (j == 0 || !isWordByte(s[j-1])) && (end == len(s) || !isWordByte(s[end])) {
			return true
		}
		i = j + 1
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80
}

// isNone reports whether a cell says "none": empty or a dash.
func isNone(s string) bool {
	switch strings.TrimSpace(s) {
	case "", "-", "–", "—", "--":
		return true
	}
	return false
}
