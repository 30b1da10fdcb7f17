package ingest_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/ingest"
)

// continental is the region without Isla de Pascua (052) and Juan
// Fernández (05104), compacted.
var continental = domain.Scope{
	Provincias: []string{"053", "054", "055", "056", "057", "058"},
	Comunas:    []string{"05101", "05102", "05103", "05105", "05107", "05109"},
}

func region() domain.Scope {
	return domain.Scope{Region: true, Provincias: []string{}, Comunas: []string{}}
}

func scope(provincias, comunas []string) domain.Scope {
	if provincias == nil {
		provincias = []string{}
	}
	if comunas == nil {
		comunas = []string{}
	}
	return domain.Scope{Provincias: provincias, Comunas: comunas}
}

func TestParseCobertura(t *testing.T) {
	tests := []struct {
		name string
		text string
		want domain.Scope
	}{
		{"regional is the whole region", "Regional", region()},
		{"regional with a trailing period and capitals", "REGIONAL.", region()},
		{"toda la región", "Toda la región", region()},
		{"región de valparaíso alone is the region", "Región de Valparaíso", region()},
		{"regional with a region qualifier in parentheses", "Regional (Región de Valparaíso)", region()},
		{"regional continental leaves out Isla de Pascua and Juan Fernández", "Regional continental", continental},
		{"regional continental without accents or case", "regional  CONTINENTAL", continental},
		{"continental and insular together are the region", "Regional continental e insular", region()},
		{"insular is Isla de Pascua and Juan Fernández", "Territorio insular", scope([]string{"052"}, []string{"05104"})},
		{"regional except a province", "Regional, excepto provincia de Isla de Pascua",
			scope([]string{"051", "053", "054", "055", "056", "057", "058"}, nil)},
		{"regional except two provinces", "Regional, excepto provincias de Isla de Pascua y Los Andes",
			scope([]string{"051", "054", "055", "056", "057", "058"}, nil)},
		{"regional except a province and a comuna is continental",
			"Regional, excepto provincia de Isla de Pascua y comuna de Juan Fernández", continental},
		{"exception in parentheses with salvo", "Regional (salvo Isla de Pascua y Juan Fernández).", continental},
		{"exception with sin", "Regional sin Isla de Pascua", scope([]string{"051", "053", "054", "055", "056", "057", "058"}, nil)},
		{"exception with a excepción de", "Región de Valparaíso, a excepción de la provincia de Isla de Pascua",
			scope([]string{"051", "053", "054", "055", "056", "057", "058"}, nil)},
		{"a province", "Provincia de Los Andes", scope([]string{"053"}, nil)},
		{"a province named in short", "Provincia de San Felipe", scope([]string{"057"}, nil)},
		{"provinces: the kind word carries over", "Provincias de Quillota y Marga Marga", scope([]string{"055", "058"}, nil)},
		{"three provinces with commas", "Provincias de Petorca, Quillota y San Felipe de Aconcagua", scope([]string{"054", "055", "057"}, nil)},
		{"every comuna of a province", "Todas las comunas de la provincia de Petorca", scope([]string{"054"}, nil)},
		{"a province and a comuna", "Provincia de Los Andes y comuna de Quilpué", scope([]string{"053"}, []string{"05801"})},
		{"a province and comunas on separate lines", "Provincia de Los Andes\nComunas de Quilpué y Limache",
			scope([]string{"053"}, []string{"05801", "05802"})},
		{"comunas", "Comunas de Valparaíso, Viña del Mar y Quilpué", scope(nil, []string{"05101", "05109", "05801"})},
		{"a bare list of comunas", "Valparaíso, Viña del Mar y Quilpué", scope(nil, []string{"05101", "05109", "05801"})},
		{"bare comunas without accents and with aliases", "Concon, La Calera, Llay-Llay", scope(nil, []string{"05103", "05502", "05703"})},
		{"comuna de Los Andes is the comuna only", "Comuna de Los Andes", scope(nil, []string{"05301"})},
		{"an ambiguous bare name follows its comuna neighbours", "Quillota y La Cruz", scope(nil, []string{"05501", "05504"})},
		{"an ambiguous bare name after a province word is a province", "Provincias de Los Andes y Quillota", scope([]string{"053", "055"}, nil)},
		{"isla de pascua is one territory either way", "Isla de Pascua", scope([]string{"052"}, nil)},
		{"all comunas of a province become the province", "Comunas de Quilpué, Limache, Olmué y Villa Alemana", scope([]string{"058"}, nil)},
		{"a comuna with a region qualifier", "Comuna de Quilpué, Región de Valparaíso", scope(nil, []string{"05801"})},
		{"mixed with semicolons", "Comunas de Valparaíso y Viña del Mar; provincia de Marga Marga", scope([]string{"058"}, []string{"05101", "05109"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := ingest.ParseCobertura(tt.text)
			if len(problems) > 0 {
				t.Fatalf("got problems %q, want none", problems)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseCoberturaReportsWhatItCannotRead(t *testing.T) {
	tests := []struct {
		name, text string
		// wantIn is a fragment every problem list must mention.
		wantIn string
	}{
		{"empty", "", "vacía"},
		{"a dash", "-", "vacía"},
		{"an unknown place", "Marte", "no se reconoce «Marte»"},
		{"an unknown place next to a known one", "Regional, provincia de Narnia", "no se reconoce la provincia «provincia de Narnia»"},
		{"an unknown comuna", "Comunas de Quilpué y Gotham", "no se reconoce «Gotham»"},
		{"a comuna named as a province", "Provincia de Quilpué", "«Quilpué» es una comuna, no una provincia"},
		{"a province named as a comuna", "Comuna de Marga Marga", "«Marga Marga» es una provincia, no una comuna"},
		{"a bare name that is comuna and province", "Los Andes", "puede ser la comuna o la provincia"},
		{"two ambiguous bare names", "Quillota y Petorca", "puede ser la comuna o la provincia"},
		{"an ambiguous exception", "Regional, excepto Los Andes", "puede ser la comuna o la provincia"},
		{"partial coverage of a province", "Sector cordillerano de la provincia de Los Andes", "cobertura parcial"},
		{"partial coverage of the coast", "Borde costero de la provincia de San Antonio", "cobertura parcial"},
		{"comunas listed inside a province's parentheses", "Provincia de Los Andes (comunas de Los Andes y San Esteban)", "paréntesis"},
		{"a parenthesis never closed", "Regional (excepto Isla de Pascua", "paréntesis"},
		{"a stray closing parenthesis", "Regional) continental", "paréntesis"},
		{"a kind word without a name", "Comuna de", "falta el nombre"},
		{"an exception with nothing before it", "Excepto Isla de Pascua", "falta lo que cubre"},
		{"an exception of nothing", "Regional, excepto", "falta qué se exceptúa"},
		{"an exception that only names the region", "Provincia de Los Andes, excepto Región de Valparaíso", "no dice qué se exceptúa"},
		{"an exception of everything", "Provincia de Los Andes, excepto provincia de Los Andes", "no queda ninguna comuna"},
		{"free text", "Según resolución exenta 123", "no se reconoce"},
		{"a text longer than a cell", strings.Repeat("Quilpué, ", 60), "es demasiado larga (539 caracteres; máximo 500)"},
		{"many unknown places: five named, the rest counted", "A, B, C, D, E, F, G", "y 2 problemas más"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := ingest.ParseCobertura(tt.text)
			if len(problems) == 0 {
				t.Fatalf("got scope %+v and no problems, want a problem mentioning %q", got, tt.wantIn)
			}
			if !reflect.DeepEqual(got, domain.Scope{}) {
				t.Errorf("got scope %+v, want the zero Scope (never a guess)", got)
			}
			if joined := strings.Join(problems, " | "); !strings.Contains(joined, tt.wantIn) {
				t.Errorf("got problems %q, want one mentioning %q", problems, tt.wantIn)
			}
			if quoted := strings.Join(strings.Fields(tt.text), " "); len(quoted) < 100 && !(tt.text == "" || tt.text == "-") &&
				!strings.Contains(problems[0], "«"+quoted+"»") {
				t.Errorf("got problem %q, want it to quote the cobertura", problems[0])
			}
			if len(problems) > 6 {
				t.Errorf("got %d problems, want at most 6", len(problems))
			}
		})
	}
}

func TestParseCoberturaScopesAreNormalised(t *testing.T) {
	for _, text := range []string{"Regional continental", "Provincia de Los Andes y comuna de Quilpué", "Valparaíso, Viña del Mar y Quilpué", "Regional"} {
		t.Run(text, func(t *testing.T) {
			got, _ := ingest.ParseCobertura(text)
			norm, err := domain.NormalizeScope(got)
			if err != nil {
				t.Fatalf("NormalizeScope: %v", err)
			}
			if !reflect.DeepEqual(got, norm) {
				t.Fatalf("got %+v, want it already normalised as %+v", got, norm)
			}
		})
	}
}

// FuzzParseCobertura: any text gives either problems and the zero Scope,
// or a scope NormalizeScope accepts unchanged; never a panic.
func FuzzParseCobertura(f *testing.F) {
	for _, s := range []string{"Regional", "Regional continental", "Regional, excepto provincia de Isla de Pascua (y Juan Fernández)",
		"Provincia de Los Andes y comuna de Quilpué", "Quillota y La Cruz", "((", "excepto", "Comuna de", "sin sin sin", "y , e ;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, problems := ingest.ParseCobertura(text)
		if len(problems) > 0 {
			if !reflect.DeepEqual(got, domain.Scope{}) {
				t.Fatalf("got scope %+v with problems %q, want the zero Scope", got, problems)
			}
			return
		}
		norm, err := domain.NormalizeScope(got)
		if err != nil || !reflect.DeepEqual(got, norm) {
			t.Fatalf("%q: got %+v, NormalizeScope gives %+v, %v", text, got, norm, err)
		}
	})
}
