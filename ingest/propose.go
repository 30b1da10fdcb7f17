package ingest

import (
	"strings"

	"github.com/senapred-valparaiso/vigia/domain"
)

// Proposal is what one "alerta vigente" row of an informe says, in the
// board's terms: level, hazard and scope codes. It is actionable (an
// operator may apply it to the board) only when Problems is empty.
type Proposal struct {
	// Row is the row's index in Content.Alertas, from 0.
	Row int
	// Alerta is the row as written in the informe.
	Alerta Alerta
	// Level is the Nivel read as a level; "" when it was not recognised.
	Level domain.Level
	// Hazard is the Evento read as a hazard; domain.HazardOtro when the text
	// names no known hazard.
	Hazard domain.Hazard
	// HazardText is the Evento as written (trimmed, on one line), kept
	// always: it is the only description of an otro hazard.
	HazardText string
	// Scope is the Cobertura as CUT codes (see ParseCobertura); the zero
	// Scope when it could not be read.
	Scope domain.Scope
	// Problems lists in Spanish what could not be read; nil when none.
	Problems []string
}

// Actionable reports whether the proposal was read completely, so it may
// be applied to the board.
func (p Proposal) Actionable() bool { return len(p.Problems) == 0 }

// Title suggests a title for an alert declared from the proposal, such as
// "Alerta Amarilla por Alteración sanitaria en Provincia de Los Andes". An
// otro hazard is named by its text, so Reconcile can match it later.
func (p Proposal) Title() string {
	t := p.Level.Label() + " por " + p.hazardName() + " en " + oneLine(p.Alerta.Cobertura)
	if r := []rune(t); len(r) > domain.MaxTitle {
		t = string(r[:domain.MaxTitle-1]) + "…"
	}
	return t
}

// hazardName is the hazard's label, or the informe's text for otro.
func (p Proposal) hazardName() string {
	if p.Hazard == domain.HazardOtro && p.HazardText != "" {
		return p.HazardText
	}
	return p.Hazard.Label()
}

// Propose maps every alertas vigentes row of an informe to a proposal,
// in order, setting Row.
func Propose(alertas []Alerta) []Proposal {
	out := make([]Proposal, len(alertas))
	for i, a := range alertas {
		out[i] = ProposeAlert(a)
		out[i].Row = i
	}
	return out
}

// ProposeAlert maps one alertas vigentes row: Nivel with ParseLevel,
// Evento with ParseHazard, Cobertura with ParseCobertura. Row is left 0;
// Propose sets it.
func ProposeAlert(a Alerta) Proposal {
	p := Proposal{Alerta: a, HazardText: oneLine(a.Evento)}
	if lvl, ok := ParseLevel(a.Nivel); ok {
		p.Level = lvl
	} else {
		p.Problems = append(p.Problems, "no se reconoce el nivel «"+short(a.Nivel)+"»")
	}
	if isNone(p.HazardText) {
		p.Problems = append(p.Problems, "la fila no indica el evento")
	}
	p.Hazard = ParseHazard(a.Evento)
	scope, problems := ParseCobertura(a.Cobertura)
	p.Scope = scope
	p.Problems = append(p.Problems, problems...)
	return p
}

// levelNames are the ways informes write a level, after clean and
// without the words "alerta" and "nivel".
var levelNames = map[string]domain.Level{
	"temprana preventiva":     domain.LevelTempranaPreventiva,
	"temprana preventiva atp": domain.LevelTempranaPreventiva,
	"atp":                     domain.LevelTempranaPreventiva,
	"a t p":                   domain.LevelTempranaPreventiva,
	"temprana":                domain.LevelTempranaPreventiva,
	"preventiva":              domain.LevelTempranaPreventiva,
	"amarilla":                domain.LevelAmarilla,
	"roja":                    domain.LevelRoja,
}

// ParseLevel reads a Nivel cell: "Temprana Preventiva", "Alerta Temprana
// Preventiva", "ATP", "Amarilla", "Alerta Roja", ... ignoring case, accents,
// punctuation and spacing.
func ParseLevel(text string) (domain.Level, bool) {
	var words []string
	for _, w := range strings.Fields(clean(text)) {
		if w != "alerta" && w != "nivel" {
			words = append(words, w)
		}
	}
	l, ok := levelNames[strings.Join(words, " ")]
	return l, ok
}

// hazardWords are words and phrases of Evento cells, after clean, that name
// one hazard. A text naming several hazards is otro.
var hazardWords = []struct {
	phrase string
	hazard domain.Hazard
}{
	{"forestal", domain.HazardIncendioForestal},
	{"forestales", domain.HazardIncendioForestal},
	{"sistema frontal", domain.HazardSistemaFrontal},
	{"sistemas frontales", domain.HazardSistemaFrontal},
	{"meteorologico", domain.HazardEventoMeteorologico},
	{"meteorologica", domain.HazardEventoMeteorologico},
	{"meteorologicos", domain.HazardEventoMeteorologico},
	{"hidrometeorologico", domain.HazardEventoMeteorologico},
	{"tormenta electrica", domain.HazardTormentaElectrica},
	{"tormentas electricas", domain.HazardTormentaElectrica},
	{"viento", domain.HazardViento},
	{"vientos", domain.HazardViento},
	{"calor intenso", domain.HazardCalorIntenso},
	{"calor extremo", domain.HazardCalorExtremo},
	{"marejada", domain.HazardMarejadas},
	{"marejadas", domain.HazardMarejadas},
	{"tsunami", domain.HazardTsunami},
	{"remocion en masa", domain.HazardRemocionEnMasa},
	{"remociones en masa", domain.HazardRemocionEnMasa},
	{"evento masivo", domain.HazardEventoMasivo},
	{"eventos masivos", domain.HazardEventoMasivo},
	{"alteracion sanitaria", domain.HazardAlteracionSanitaria},
	{"alteraciones sanitarias", domain.HazardAlteracionSanitaria},
	{"volcanica", domain.HazardActividadVolcanica},
	{"volcanico", domain.HazardActividadVolcanica},
	{"volcan", domain.HazardActividadVolcanica},
	{"sismo", domain.HazardSismo},
	{"sismos", domain.HazardSismo},
	{"sismica", domain.HazardSismo},
	{"terremoto", domain.HazardSismo},
	{"inundacion", domain.HazardInundacion},
	{"inundaciones", domain.HazardInundacion},
	{"deficit hidrico", domain.HazardDeficitHidrico},
	{"escasez hidrica", domain.HazardDeficitHidrico},
}

// ParseHazard reads an Evento cell: a hazard's label ("Alteración
// sanitaria") or a phrase that names exactly one hazard ("Meteorológico",
// "Incendios forestales", "Sismo de mayor intensidad"), ignoring case,
// accents and punctuation. Anything else, including a text that names
// several hazards, is domain.HazardOtro; the caller keeps the text.
func ParseHazard(text string) domain.Hazard {
	c := clean(text)
	if c == "" {
		return domain.HazardOtro
	}
	for _, h := range domain.Hazards() {
		if clean(h.Label()) == c || clean(string(h)) == c {
			return h
		}
	}
	found := map[domain.Hazard]bool{}
	for _, w := range hazardWords {
		if containsWords(c, w.phrase) {
			found[w.hazard] = true
		}
	}
	if len(found) == 1 {
		for h := range found {
			return h
		}
	}
	return domain.HazardOtro
}
