package report

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxFieldRunes caps one printed field. The domain caps its texts far
// below this (5,000 runes); the cap only keeps a bad input from producing a
// book.
const maxFieldRunes = 20000

// printable reports whether the embedded font subset has a glyph for r
// (see fonts/README.md for the ranges it was cut to).
func printable(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0x7E,
		r >= 0xA0 && r <= 0x17F,
		r >= 0x2010 && r <= 0x2027,
		r >= 0x2030 && r <= 0x203A,
		r == 0x20AC, r == 0x2122,
		r >= 0x2190 && r <= 0x2193:
		return true
	}
	return false
}

// clean makes s printable with the embedded font: it composes accents
// (NFC), turns tabs and, unless multiline, line breaks into spaces, drops
// other control and formatting characters (zero-width joiners, variation
// selectors, bidi marks), and replaces what the font cannot show (emoji,
// other scripts, invalid UTF-8) with "?". multiline keeps "\n" as a line
// break.
func clean(s string, multiline bool) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	if !isPlainASCII(s) {
		s = norm.NFC.String(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	n := 0
	for i, r := range s {
		if n >= maxFieldRunes {
			b.WriteString("…")
			break
		}
		switch {
		case r == '\r':
			if strings.HasPrefix(s[i+1:], "\n") {
				continue
			}
			r = '\n'
		case r == '\u2028' || r == '\u2029' || r == '\u0085':
			r = '\n'
		case r == '\t' || r == '\v' || r == '\f':
			r = ' '
		}
		switch {
		case r == '\n':
			if !multiline {
				r = ' '
			}
		case r == '\u00AD' || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Mn, r) ||
			unicode.Is(unicode.Variation_Selector, r):
			continue
		case r == utf8.RuneError:
			r = '?'
		case !printable(r):
			if unicode.IsSpace(r) {
				r = ' '
			} else {
				r = '?'
			}
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

var (
	weekdays = [...]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
	months   = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
		"septiembre", "octubre", "noviembre", "diciembre"}
)

// longDate writes a YYYY-MM-DD day out in Spanish: "jueves 12 de febrero
// de 2026". A malformed date is returned as it is.
func longDate(date string) string {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	return weekdays[d.Weekday()] + " " + itoa(d.Day()) + " de " + months[d.Month()-1] + " de " + itoa(d.Year())
}

// shortDate writes a YYYY-MM-DD day as dd-mm-yyyy.
func shortDate(date string) string {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	return d.Format("02-01-2006")
}

// stamp writes a moment as dd-mm-yyyy HH:MM in loc, or "—" when unknown.
func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("02-01-2006 15:04")
}

// clock writes a moment as HH:MM in loc when it falls on day (YYYY-MM-DD),
// else as dd-mm HH:MM.
func clock(t time.Time, loc *time.Location, day string) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(loc)
	if t.Format(time.DateOnly) == day {
		return t.Format("15:04")
	}
	return t.Format("02-01 15:04")
}

// itoa is strconv.Itoa, short for the layout code.
func itoa(n int) string { return strconv.Itoa(n) }

// joinNames lists names the Spanish way: "a, b y c".
func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " y " + names[len(names)-1]
}

// capitalize upper-cases the first letter.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

var categoryLabels = map[string]string{
	"novedad":      "Novedad",
	"incidente":    "Incidente",
	"comunicacion": "Comunicación",
	"coordinacion": "Coordinación",
	"sistema":      "Sistema",
}

// categoryLabel names a log category as the UI does.
func categoryLabel(c string) string {
	if l, ok := categoryLabels[c]; ok {
		return l
	}
	return c
}

var slotLabels = map[string]string{"dia": "Día", "noche": "Noche", "tarde": "Tarde", "manana": "Mañana"}

// slotLabel names a roster slot as the UI does: "dia" → "Día",
// "enlace-regional" → "Enlace regional".
func slotLabel(slot string) string {
	if l, ok := slotLabels[slot]; ok {
		return l
	}
	words := strings.TrimSpace(strings.NewReplacer("-", " ", "_", " ").Replace(slot))
	return capitalize(words)
}
