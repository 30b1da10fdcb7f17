package ingest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/senapred-valparaiso/vigia/domain"
)

// ParseCobertura reads the Cobertura cell of an alertas vigentes row into a
// scope of CUT codes (normalised by domain.NormalizeScope). problems is
// empty when the whole text was understood; otherwise it lists, in Spanish,
// every fragment that was not, and the scope is the zero Scope: a coverage
// that is only partly understood is reported, never guessed.
//
// Understood forms (case, accents, extra spaces and trailing periods
// ignored; items separated by commas, semicolons, line breaks, "y", "e" or
// dashes):
//
//   - "Regional", "Toda la región", "Región de Valparaíso": the region;
//   - "Regional continental": every comuna but Isla de Pascua and Juan
//     Fernández; "Insular", "Territorio insular": those two;
//   - "Provincia(s) de A y B", "Comuna(s) de A, B y C", mixed as in
//     "Provincia de Los Andes y comuna de Quilpué"; a kind word carries over
//     to the names after it; bare names ("Valparaíso, Viña del Mar y
//     Quilpué") are comunas or provincias by the reference data, a name that
//     is both (Los Andes, Quillota, ...) takes the kind of its neighbours;
//   - an exception: "Regional, excepto provincia de Isla de Pascua",
//     "Regional (salvo Isla de Pascua y Juan Fernández)", with excepto,
//     salvo, menos, sin, exceptuando, a/con excepción de;
//   - "Región de Valparaíso" next to other items, or in parentheses, is
//     taken as a qualifier and ignored.
//
// Partial coverage ("sector cordillerano de ...", "borde costero") and
// anything else is a problem, as is a text longer than MaxCobertura; at
// most five fragments are named. The scope is compacted: a province whose
// comunas are all covered is named as the province, all comunas as the
// region.
func ParseCobertura(text string) (scope domain.Scope, problems []string) {
	whole := oneLine(text)
	var frags []string
	more := 0
	bad := func(format string, a ...any) {
		if len(frags) == maxProblems {
			more++
			return
		}
		frags = append(frags, fmt.Sprintf(format, a...))
	}
	if isNone(whole) {
		return domain.Scope{}, []string{"la cobertura está vacía"}
	}
	if n := utf8.RuneCountInString(whole); n > MaxCobertura {
		return domain.Scope{}, []string{fmt.Sprintf("no se pudo interpretar la cobertura «%s»: es demasiado larga (%d caracteres; máximo %d)", short(whole), n, MaxCobertura)}
	}

	// A line break separates items like a comma.
	base, except := splitParens(oneLine(strings.ReplaceAll(text, "\n", ", ")), bad)
	if loc := exceptRe.FindStringIndex(base); loc != nil {
		except = append([]string{base[loc[1]:]}, except...)
		base = base[:loc[0]]
		if strings.TrimSpace(trimPunct(base)) == "" {
			bad("falta lo que cubre antes de la excepción")
		}
	}

	covered := resolvePart(base, true, bad)
	for _, e := range except {
		if strings.TrimSpace(trimPunct(e)) == "" {
			bad("falta qué se exceptúa")
			continue
		}
		for c := range resolvePart(e, false, bad) {
			delete(covered, c)
		}
	}
	if len(frags) == 0 && len(covered) == 0 {
		bad("no queda ninguna comuna")
	}
	if len(frags) > 0 {
		if more > 0 {
			frags = append(frags, fmt.Sprintf("y %d problemas más", more))
		}
		out := make([]string, len(frags))
		for i, f := range frags {
			out[i] = "no se pudo interpretar la cobertura «" + short(whole) + "»: " + f
		}
		return domain.Scope{}, out
	}
	s, err := domain.NormalizeScope(compact(covered))
	if err != nil {
		return domain.Scope{}, []string{"no se pudo interpretar la cobertura «" + short(whole) + "»: " + err.Error()}
	}
	return s, nil
}

// MaxCobertura is the longest Cobertura text ParseCobertura reads, in
// characters; a real one is a line or two.
const MaxCobertura = 500

// maxProblems is how many fragments ParseCobertura names before counting
// the rest.
const maxProblems = 5

// exceptRe finds where the exception of a coverage begins.
var exceptRe = regexp.MustCompile(`(?i)(?:^|[\s,;(–—-])(excepto|salvo|menos|exceptuando|sin|(?:a|con) excepci[oó]n de)(?:\s|$)`)

// itemSep separates the items of a coverage.
var itemSep = regexp.MustCompile(`(?i)\s*(?:[,;\n/+&–—]|\s-\s|\s(?:y|e)\s)\s*`)

// splitParens removes parenthesised groups from s: an exception group
// ("(excepto Isla de Pascua)") is returned apart, a region qualifier
// ("(Región de Valparaíso)") is dropped, anything else is a problem.
func splitParens(s string, bad func(string, ...any)) (base string, except []string) {
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '(')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], ')')
		if end < 0 {
			bad("falta cerrar el paréntesis en «%s»", strings.TrimSpace(s[open:]))
			s = s[:open]
			break
		}
		inner := s[open+1 : open+end]
		b.WriteString(s[:open])
		b.WriteString(", ")
		s = s[open+end+1:]
		switch loc := exceptRe.FindStringIndex(" " + inner); {
		case loc != nil && strings.TrimSpace(trimPunct((" " + inner)[:loc[0]])) == "":
			except = append(except, (" " + inner)[loc[1]:])
		case qualifiers[clean(inner)]:
		default:
			bad("no se entiende el paréntesis «(%s)»", strings.TrimSpace(inner))
		}
	}
	if strings.IndexByte(s, ')') >= 0 {
		bad("sobra un paréntesis en «%s»", strings.TrimSpace(s))
	}
	b.WriteString(strings.ReplaceAll(s, ")", " "))
	return b.String(), except
}

// Phrases of whole-item coverages, compared after clean.
var (
	regionPhrases = set("regional", "toda la region", "toda la region de valparaiso", "region completa",
		"a nivel regional", "nivel regional", "todo el territorio regional", "toda la region de valparaiso v",
		"regional region de valparaiso", "todas las comunas de la region")
	// qualifiers name the region as a place, not as the coverage: "Comuna de
	// Quilpué, Región de Valparaíso". Alone they mean the region.
	qualifiers = set("region", "region de valparaiso", "la region de valparaiso", "en la region de valparaiso",
		"v region", "quinta region", "region v", "v region de valparaiso", "region de valparaiso v", "valparaiso region")
	continentalPhrases = set("regional continental", "region continental", "continental", "territorio continental",
		"zona continental", "toda la region continental", "region de valparaiso continental",
		"territorio continental regional", "regional territorio continental", "parte continental")
	insularPhrases = set("insular", "territorio insular", "regional insular", "zona insular", "region insular",
		"territorio insular regional", "islas")
	// partialWords mark a coverage smaller than the places it names.
	partialWords = set("sector", "sectores", "cordillera", "cordillerano", "cordillerana", "cordilleranos",
		"precordillera", "precordillerano", "precordillerana", "costa", "costero", "costera", "litoral",
		"valle", "valles", "interior", "zona", "zonas", "norte", "sur", "oriente", "poniente", "rural",
		"rurales", "urbano", "urbana", "parte", "parcial", "alto", "altos", "localidad", "localidades",
		"cerro", "cerros", "borde", "cuenca", "rio", "quebrada")
)

// kind is what a coverage item names.
type kind int

const (
	kindNone kind = iota
	kindComuna
	kindProvincia
)

// kindPrefixes say what the name after them is; longest first.
var kindPrefixes = []struct {
	prefix string
	kind   kind
}{
	{"todas las comunas de la provincia de ", kindProvincia},
	{"todas las comunas de la provincia del ", kindProvincia},
	{"toda la provincia de ", kindProvincia},
	{"las provincias de ", kindProvincia},
	{"la provincia de ", kindProvincia},
	{"provincias de ", kindProvincia},
	{"provincia de ", kindProvincia},
	{"provincia del ", kindProvincia},
	{"provincias ", kindProvincia},
	{"provincia ", kindProvincia},
	{"prov de ", kindProvincia},
	{"prov ", kindProvincia},
	{"las comunas de ", kindComuna},
	{"la comuna de ", kindComuna},
	{"comunas de ", kindComuna},
	{"comuna de ", kindComuna},
	{"comunas ", kindComuna},
	{"comuna ", kindComuna},
}

// item is one name of a coverage, resolved as far as it alone allows.
type item struct {
	text     string
	comunas  []string // resolved territory; nil while ambiguous
	explicit kind     // a kind word preceded it
	as       kind     // what it was resolved as; kindNone when the territory needs no kind
	asComuna []string // the two readings of an ambiguous bare name
	asProv   []string
}

// resolvePart returns the comunas a list of items covers. Region
// qualifiers alone are the region; in an exception they are a problem.
func resolvePart(part string, included bool, bad func(string, ...any)) map[string]bool {
	var items []*item
	for _, raw := range itemSep.Split(part, -1) {
		t := strings.TrimSpace(trimPunct(raw))
		if clean(t) == "" {
			continue
		}
		items = append(items, &item{text: t})
	}
	out := map[string]bool{}
	var qualified []*item
	carry := kindNone
	for _, it := range items {
		c := clean(it.text)
		switch {
		case regionPhrases[c]:
			it.comunas = allComunas()
			continue
		case qualifiers[c]:
			it.comunas = []string{}
			qualified = append(qualified, it)
			continue
		case continentalPhrases[c]:
			it.comunas = continental()
			continue
		case insularPhrases[c]:
			it.comunas = insular()
			continue
		}
		name := c
		for _, p := range kindPrefixes {
			if strings.HasPrefix(c+" ", p.prefix) {
				it.explicit, carry = p.kind, p.kind
				name = strings.TrimSpace(strings.TrimPrefix(c+" ", p.prefix))
				break
			}
		}
		resolveName(it, name, carry, bad)
		if it.as != kindNone {
			carry = it.as
		}
	}
	disambiguate(items, bad)
	if len(qualified) > 0 && len(qualified) == len(items) {
		if !included {
			bad("«%s» no dice qué se exceptúa", qualified[0].text)
		}
		for _, c := range allComunas() {
			out[c] = true
		}
	}
	for _, it := range items {
		for _, c := range it.comunas {
			out[c] = true
		}
	}
	return out
}

// resolveName resolves one name: strictly as the kind a kind word gave it,
// else as whichever of comuna or provincia it names; a name that is both
// and means different territories takes the carried kind, or waits for
// disambiguate.
func resolveName(it *item, name string, carry kind, bad func(string, ...any)) {
	if name == "" {
		bad("falta el nombre en «%s»", it.text)
		it.comunas = []string{}
		return
	}
	com, cok := domain.LookupComuna(name)
	prov, pok := lookupProvincia(name)
	switch {
	case it.explicit == kindComuna && cok, it.explicit == kindNone && cok && !pok:
		it.comunas, it.as = []string{com.Code}, kindComuna
	case it.explicit == kindProvincia && pok, it.explicit == kindNone && pok && !cok:
		it.comunas, it.as = provComunas(prov), kindProvincia
	case it.explicit == kindNone && cok && pok:
		pc := provComunas(prov)
		switch {
		case len(pc) == 1 && pc[0] == com.Code:
			it.comunas = pc
		case carry == kindComuna:
			it.comunas, it.as = []string{com.Code}, kindComuna
		case carry == kindProvincia:
			it.comunas, it.as = pc, kindProvincia
		default:
			it.asComuna, it.asProv = []string{com.Code}, pc
		}
	default:
		it.comunas = []string{}
		switch {
		case hasPartialWord(name):
			bad("«%s» es una cobertura parcial, que no se traduce a comunas", it.text)
		case it.explicit == kindProvincia && cok:
			bad("«%s» es una comuna, no una provincia, en «%s»", com.Name, it.text)
		case it.explicit == kindComuna && pok:
			bad("«%s» es una provincia, no una comuna, en «%s»", prov.Name, it.text)
		case it.explicit == kindProvincia:
			bad("no se reconoce la provincia «%s»", it.text)
		case it.explicit == kindComuna:
			bad("no se reconoce la comuna «%s»", it.text)
		default:
			bad("no se reconoce «%s»", it.text)
		}
	}
}

// disambiguate resolves bare names that are both a comuna and a province
// (Los Andes, Quillota, ...) by the kind of the other bare names of the
// list, when they all agree; otherwise it is a problem.
func disambiguate(items []*item, bad func(string, ...any)) {
	var kinds = map[kind]bool{}
	for _, it := range items {
		if it.as != kindNone {
			kinds[it.as] = true
		}
	}
	for _, it := range items {
		if it.comunas != nil {
			continue
		}
		switch {
		case len(kinds) == 1 && kinds[kindComuna]:
			it.comunas = it.asComuna
		case len(kinds) == 1 && kinds[kindProvincia]:
			it.comunas = it.asProv
		default:
			it.comunas = []string{}
			bad("«%s» puede ser la comuna o la provincia: escriba «comuna de %s» o «provincia de %s»", it.text, it.text, it.text)
		}
	}
}

// lookupProvincia is domain.LookupProvincia, also accepting the unique
// province whose name starts with s ("San Felipe" for San Felipe de
// Aconcagua).
func lookupProvincia(s string) (domain.Provincia, bool) {
	if p, ok := domain.LookupProvincia(s); ok {
		return p, true
	}
	var found []domain.Provincia
	for _, p := range domain.Provincias() {
		if strings.HasPrefix(clean(p.Name)+" ", s+" ") {
			found = append(found, p)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return domain.Provincia{}, false
}

func provComunas(p domain.Provincia) []string {
	out := make([]string, len(p.Comunas))
	for i, c := range p.Comunas {
		out[i] = c.Code
	}
	return out
}

// Territory codes of the archipelagos, from the reference data: the
// province of Isla de Pascua and the comuna of Juan Fernández (province
// of Valparaíso).
const (
	cutProvinciaIslaDePascua = "052"
	cutComunaJuanFernandez   = "05104"
)

func allComunas() []string { return domain.Scope{Region: true}.ComunaCodes() }

func insular() []string {
	return append(domain.Scope{Provincias: []string{cutProvinciaIslaDePascua}}.ComunaCodes(), cutComunaJuanFernandez)
}

// continental is the region without Isla de Pascua and Juan Fernández.
func continental() []string {
	skip := map[string]bool{}
	for _, c := range insular() {
		skip[c] = true
	}
	var out []string
	for _, c := range allComunas() {
		if !skip[c] {
			out = append(out, c)
		}
	}
	return out
}

// compact names the covered comunas as the region when they are all of
// them, else as whole provinces plus the remaining comunas.
func compact(covered map[string]bool) domain.Scope {
	all := allComunas()
	if len(covered) == len(all) {
		return domain.Scope{Region: true}
	}
	rest := map[string]bool{}
	for c := range covered {
		rest[c] = true
	}
	var s domain.Scope
	for _, p := range domain.Provincias() {
		pc := provComunas(p)
		whole := len(pc) > 0
		for _, c := range pc {
			whole = whole && covered[c]
		}
		if whole {
			s.Provincias = append(s.Provincias, p.Code)
			for _, c := range pc {
				delete(rest, c)
			}
		}
	}
	for c := range rest {
		s.Comunas = append(s.Comunas, c)
	}
	sort.Strings(s.Comunas)
	return s
}

// clean folds s (see fold) and turns every rune that is not a letter or a
// digit into a space, so "Prov. de Llay-Llay." reads "prov de llay llay".
func clean(s string) string {
	f := []rune(fold(s))
	for i, r := range f {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			f[i] = ' '
		}
	}
	return strings.Join(strings.Fields(string(f)), " ")
}

// trimPunct trims spaces, periods, colons and quotes around s.
func trimPunct(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`.:;,"'«»“”-–—`, r)
	})
}

// short is s on one line, cut to 120 characters, for quoting in a message.
func short(s string) string {
	const most = 120
	s = oneLine(s)
	if r := []rune(s); len(r) > most {
		return string(r[:most-1]) + "…"
	}
	return s
}

// oneLine trims s and joins its lines and runs of spaces with one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func hasPartialWord(cleaned string) bool {
	for _, w := range strings.Fields(cleaned) {
		if partialWords[w] {
			return true
		}
	}
	return false
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
