package domain

import (
	_ "embed"
	"encoding/json"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

//go:embed valparaiso.json
var valparaisoJSON []byte

// Provincia is a province of the Valparaíso region.
type Provincia struct {
	Code    string   `json:"cut"`
	Name    string   `json:"provincia"`
	Comunas []Comuna `json:"comunas"`
}

// Comuna is a comuna (municipality) with its CUT code and the province it
// belongs to.
type Comuna struct {
	Code      string   `json:"cut"`
	Name      string   `json:"nombre"`
	Aliases   []string `json:"alias,omitempty"`
	Provincia string   `json:"provincia,omitempty"`
}

var (
	provincias    []Provincia
	comunaByCode  = map[string]Comuna{}
	provByCode    = map[string]Provincia{}
	comunaByName  = map[string]string{}
	provByName    = map[string]string{}
	allComunaCuts []string
)

func init() {
	if err := json.Unmarshal(valparaisoJSON, &provincias); err != nil {
		panic("domain: embedded valparaiso.json: " + err.Error())
	}
	for pi := range provincias {
		p := &provincias[pi]
		for ci := range p.Comunas {
			p.Comunas[ci].Provincia = p.Code
			c := p.Comunas[ci]
			comunaByCode[c.Code] = c
			comunaByName[fold(c.Name)] = c.Code
			for _, a := range c.Aliases {
				comunaByName[fold(a)] = c.Code
			}
			allComunaCuts = append(allComunaCuts, c.Code)
		}
		provByCode[p.Code] = *p
		provByName[fold(p.Name)] = p.Code
	}
	sort.Strings(allComunaCuts)
}

// fold lower-cases and strips accents so "Concon", "CONCÓN" and "Concón"
// name the same comuna.
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.Join(strings.Fields(strings.ToLower(out)), " ")
}

// Provincias returns the region's provinces in CUT order.
func Provincias() []Provincia {
	out := make([]Provincia, len(provincias))
	copy(out, provincias)
	return out
}

// LookupComuna resolves a CUT code, a name or an alias (accents and case
// ignored) to a comuna.
func LookupComuna(s string) (Comuna, bool) {
	if c, ok := comunaByCode[strings.TrimSpace(s)]; ok {
		return c, true
	}
	code, ok := comunaByName[fold(s)]
	if !ok {
		return Comuna{}, false
	}
	return comunaByCode[code], true
}

// LookupProvincia resolves a CUT code or a name to a province.
func LookupProvincia(s string) (Provincia, bool) {
	if p, ok := provByCode[strings.TrimSpace(s)]; ok {
		return p, true
	}
	code, ok := provByName[fold(s)]
	if !ok {
		return Provincia{}, false
	}
	return provByCode[code], true
}

// ComunaName returns the display name of a comuna code, or the code itself
// when unknown.
func ComunaName(code string) string {
	if c, ok := comunaByCode[code]; ok {
		return c.Name
	}
	return code
}

// ProvinciaName returns the display name of a province code, or the code.
func ProvinciaName(code string) string {
	if p, ok := provByCode[code]; ok {
		return p.Name
	}
	return code
}
