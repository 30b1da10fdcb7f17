package ingest

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var months = map[string]time.Month{
	"enero": time.January, "febrero": time.February, "marzo": time.March,
	"abril": time.April, "mayo": time.May, "junio": time.June, "julio": time.July,
	"agosto": time.August, "septiembre": time.September, "setiembre": time.September,
	"octubre": time.October, "noviembre": time.November, "diciembre": time.December,
	"ene": time.January, "feb": time.February, "mar": time.March, "abr": time.April,
	"jun": time.June, "jul": time.July, "ago": time.August, "sep": time.September,
	"sept": time.September, "oct": time.October, "nov": time.November, "dic": time.December,
}

var weekdays = map[string]time.Weekday{
	"domingo": time.Sunday, "lunes": time.Monday, "martes": time.Tuesday,
	"miercoles": time.Wednesday, "jueves": time.Thursday, "viernes": time.Friday,
	"sabado": time.Saturday,
}

var (
	// "miércoles, 28 de mayo de 2025", "Lunes 09 de junio 2025", "11 jun. 2025"
	longDate = regexp.MustCompile(`(?:([a-z]+),?\s+)?(\d{1,2})\s*(?:de\s+)?([a-z]+)\.?\s*(?:de(?:l)?\s+)?(\d{4})`)
	// "11/06/2025", "11-06-25", "11.06.2025"
	numDate = regexp.MustCompile(`(?:^|[^\d])(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[^\d]|$)`)
	// "2025-06-11"
	isoDate = regexp.MustCompile(`(\d{4})-(\d{2})-(\d{2})`)
	// "18:45 horas", "0:35 h.", "18:15 hrs.", "09:35", "18.45 hrs"
	clock = regexp.MustCompile(`(?:^|[^\d])(\d{1,2})\s*[:.]\s*(\d{2})(?:[^\d]|$)`)
)

// ParseDate reads the date of an informe's Fecha cell in the forms real
// informes use and returns it as YYYY-MM-DD. A weekday that does not match
// the date is returned as a warning, not an error (the date text is
// sometimes stale, the weekday even more so).
func ParseDate(s string) (date string, warning string, ok bool) {
	f := fold(s)
	if m := longDate.FindStringSubmatch(f); m != nil {
		if mon, known := months[m[3]]; known {
			day, _ := strconv.Atoi(m[2])
			year, _ := strconv.Atoi(m[4])
			t, valid := mkDate(year, mon, day)
			if !valid {
				return "", "", false
			}
			if wd, named := weekdays[m[1]]; named && wd != t.Weekday() {
				warning = fmt.Sprintf("la fecha «%s» no corresponde a un %s; se usó %s", strings.TrimSpace(s), m[1], t.Format(time.DateOnly))
			}
			return t.Format(time.DateOnly), warning, true
		}
	}
	if m := isoDate.FindStringSubmatch(f); m != nil {
		year, _ := strconv.Atoi(m[1])
		mon, _ := strconv.Atoi(m[2])
		day, _ := strconv.Atoi(m[3])
		if t, valid := mkDate(year, time.Month(mon), day); valid {
			return t.Format(time.DateOnly), "", true
		}
	}
	if m := numDate.FindStringSubmatch(f); m != nil {
		day, _ := strconv.Atoi(m[1])
		mon, _ := strconv.Atoi(m[2])
		year := fullYear(m[3])
		if t, valid := mkDate(year, time.Month(mon), day); valid {
			return t.Format(time.DateOnly), "", true
		}
	}
	return "", "", false
}

func fullYear(s string) int {
	y, _ := strconv.Atoi(s)
	if len(s) == 2 {
		y += 2000
	}
	return y
}

// mkDate builds a date, rejecting days that roll over (31 de junio).
func mkDate(year int, mon time.Month, day int) (time.Time, bool) {
	if year < 1900 || year > 2999 || mon < 1 || mon > 12 || day < 1 {
		return time.Time{}, false
	}
	t := time.Date(year, mon, day, 0, 0, 0, 0, time.UTC)
	return t, t.Day() == day && t.Month() == mon
}

// ParseTime reads the time of an informe's Hora cell ("18:45 horas",
// "0:35 h.", "18:15 hrs.", "09:35 horas") as HH:MM; ok is false when the
// cell holds no time (" h.").
func ParseTime(s string) (hhmm string, ok bool) {
	m := clock.FindStringSubmatch(fold(s))
	if m == nil {
		return "", false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	if h > 23 || mi > 59 {
		return "", false
	}
	return fmt.Sprintf("%02d:%02d", h, mi), true
}

// Editions of an informe.
const (
	EditionAM = "AM"
	EditionPM = "PM"
)

var editionWord = regexp.MustCompile(`(?:^|[^a-z])(am|pm)(?:[^a-z]|$)`)

// EditionFromName returns the edition a file or title names ("Informe
// Situación Regional PM 11 06 25.docx", "INFORME DE SITUACIÓN REGIONAL AM"),
// or "" when it names none or both.
func EditionFromName(name string) string {
	f := fold(name)
	ms := editionWord.FindAllStringSubmatch(f, -1)
	ed := ""
	for _, m := range ms {
		e := strings.ToUpper(m[1])
		if ed != "" && ed != e {
			return ""
		}
		ed = e
	}
	return ed
}

// EditionFromTime returns AM for times before noon and PM after.
func EditionFromTime(hhmm string) string {
	if len(hhmm) < 2 {
		return ""
	}
	h, err := strconv.Atoi(hhmm[:2])
	if err != nil {
		return ""
	}
	if h < 12 {
		return EditionAM
	}
	return EditionPM
}

var nameDate = regexp.MustCompile(`(?:^|[^\d])(\d{1,2})[ ._-](\d{1,2})[ ._-](\d{4}|\d{2})(?:[^\d]|$)`)

// dateFromName returns the YYYY-MM-DD of a mailbox attachment name such as
// "... AM 11 07 25.docx" or "... PM 11-06-2025.docx", or "".
func dateFromName(name string) string {
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	m := nameDate.FindStringSubmatch(base)
	if m == nil {
		return ""
	}
	day, _ := strconv.Atoi(m[1])
	mon, _ := strconv.Atoi(m[2])
	t, ok := mkDate(fullYear(m[3]), time.Month(mon), day)
	if !ok {
		return ""
	}
	return t.Format(time.DateOnly)
}
