package domain

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Level is a SENAPRED alert level.
type Level string

// Alert levels, weakest first. A Roja may be declared directly.
const (
	LevelTempranaPreventiva Level = "temprana_preventiva"
	LevelAmarilla           Level = "amarilla"
	LevelRoja               Level = "roja"
)

// Levels lists the levels, weakest first.
var Levels = []Level{LevelTempranaPreventiva, LevelAmarilla, LevelRoja}

// Label is the level's name as operators write it.
func (l Level) Label() string {
	switch l {
	case LevelTempranaPreventiva:
		return "Alerta Temprana Preventiva"
	case LevelAmarilla:
		return "Alerta Amarilla"
	case LevelRoja:
		return "Alerta Roja"
	}
	return string(l)
}

// Rank orders levels: 1 for temprana preventiva up to 3 for roja, 0 unknown.
func (l Level) Rank() int {
	for i, x := range Levels {
		if x == l {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether l is a known level.
func (l Level) Valid() bool { return l.Rank() > 0 }

// Hazard is what an alert is about (amenaza).
type Hazard string

// Hazards seen in Valparaíso declarations and in the "Resumen de alertas
// vigentes" of the regional informes. Codes are stored in events: never
// rename or remove one.
const (
	HazardIncendioForestal    Hazard = "incendio_forestal"
	HazardSistemaFrontal      Hazard = "sistema_frontal"
	HazardEventoMeteorologico Hazard = "evento_meteorologico"
	HazardTormentaElectrica   Hazard = "tormenta_electrica"
	HazardViento              Hazard = "viento"
	HazardCalorIntenso        Hazard = "calor_intenso"
	HazardCalorExtremo        Hazard = "calor_extremo"
	HazardMarejadas           Hazard = "marejadas"
	HazardTsunami             Hazard = "tsunami"
	HazardRemocionEnMasa      Hazard = "remocion_en_masa"
	HazardEventoMasivo        Hazard = "evento_masivo"
	HazardAlteracionSanitaria Hazard = "alteracion_sanitaria"
	HazardActividadVolcanica  Hazard = "actividad_volcanica"
	HazardSismo               Hazard = "sismo"
	HazardInundacion          Hazard = "inundacion"
	HazardDeficitHidrico      Hazard = "deficit_hidrico"
	HazardOtro                Hazard = "otro"
)

var hazardLabels = map[Hazard]string{
	HazardIncendioForestal:    "Incendio forestal",
	HazardSistemaFrontal:      "Sistema frontal",
	HazardEventoMeteorologico: "Evento meteorológico",
	HazardTormentaElectrica:   "Tormentas eléctricas",
	HazardViento:              "Viento",
	HazardCalorIntenso:        "Calor intenso",
	HazardCalorExtremo:        "Calor extremo",
	HazardMarejadas:           "Marejadas",
	HazardTsunami:             "Tsunami",
	HazardRemocionEnMasa:      "Remoción en masa",
	HazardEventoMasivo:        "Evento masivo",
	HazardAlteracionSanitaria: "Alteración sanitaria",
	HazardActividadVolcanica:  "Actividad volcánica",
	HazardSismo:               "Sismo",
	HazardInundacion:          "Inundación",
	HazardDeficitHidrico:      "Déficit hídrico",
	HazardOtro:                "Otro",
}

// Hazards lists the known hazards in a stable order.
func Hazards() []Hazard {
	out := make([]Hazard, 0, len(hazardLabels))
	for h := range hazardLabels {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Valid reports whether h is a known hazard.
func (h Hazard) Valid() bool { _, ok := hazardLabels[h]; return ok }

// Label is the hazard's Spanish name.
func (h Hazard) Label() string {
	if l, ok := hazardLabels[h]; ok {
		return l
	}
	return string(h)
}

// Status of an alert.
type Status string

// Alert statuses.
const (
	StatusVigente   Status = "vigente"
	StatusCancelada Status = "cancelada"
)

// Scope is the territory an alert covers: the whole region, or provinces
// and/or comunas by CUT code.
type Scope struct {
	Region     bool     `json:"region"`
	Provincias []string `json:"provincias"`
	Comunas    []string `json:"comunas"`
}

// NormalizeScope resolves names and aliases to CUT codes, sorts and
// de-duplicates them, and checks that the scope names something. field
// errors are keyed "region", "provincias", "comunas".
func NormalizeScope(s Scope) (Scope, error) {
	fe := fieldErrors{}
	out := Scope{Region: s.Region, Provincias: []string{}, Comunas: []string{}}
	seen := map[string]bool{}
	for _, p := range s.Provincias {
		prov, ok := LookupProvincia(p)
		if !ok {
			fe.add("provincias", "provincia desconocida: "+p)
			continue
		}
		if !seen[prov.Code] {
			seen[prov.Code] = true
			out.Provincias = append(out.Provincias, prov.Code)
		}
	}
	for _, c := range s.Comunas {
		com, ok := LookupComuna(c)
		if !ok {
			fe.add("comunas", "comuna desconocida en la Región de Valparaíso: "+c)
			continue
		}
		if !seen[com.Code] {
			seen[com.Code] = true
			out.Comunas = append(out.Comunas, com.Code)
		}
	}
	sort.Strings(out.Provincias)
	sort.Strings(out.Comunas)
	if s.Region && (len(out.Provincias) > 0 || len(out.Comunas) > 0) {
		fe.add("region", "una alerta regional no lleva provincias ni comunas")
	}
	if !s.Region && len(s.Provincias) == 0 && len(s.Comunas) == 0 {
		fe.add("region", "indique la región completa, provincias o comunas")
	}
	if err := fe.err(); err != nil {
		return Scope{}, err
	}
	return out, nil
}

// ComunaCodes returns every comuna the scope covers (all of them for a
// regional alert), sorted.
func (s Scope) ComunaCodes() []string {
	if s.Region {
		out := make([]string, len(allComunaCuts))
		copy(out, allComunaCuts)
		return out
	}
	set := map[string]bool{}
	for _, c := range s.Comunas {
		set[c] = true
	}
	for _, p := range s.Provincias {
		for _, c := range provByCode[p].Comunas {
			set[c.Code] = true
		}
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func (s Scope) equal(o Scope) bool {
	return s.Region == o.Region && equalStrings(s.Provincias, o.Provincias) && equalStrings(s.Comunas, o.Comunas)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Limits on free text.
const (
	MaxTitle       = 200
	MaxDescription = 5000
	MaxReason      = 500
	MaxResolution  = 120
)

// checkText checks a one-line text field (a title, a name): trimmed, at
// most max characters, valid UTF-8 and no control characters at all (NUL,
// tab, line breaks, DEL). It returns the trimmed value.
func checkText(fe fieldErrors, field, value string, required bool, max int) string {
	return checkFreeText(fe, field, value, required, max, false)
}

// checkLines checks a multi-line text field (a description, a novedad, a
// reason) as checkText does, except that it allows tabs and line breaks
// (\t, \n, \r).
func checkLines(fe fieldErrors, field, value string, required bool, max int) string {
	return checkFreeText(fe, field, value, required, max, true)
}

func checkFreeText(fe fieldErrors, field, value string, required bool, max int, lines bool) string {
	v := strings.TrimSpace(value)
	switch {
	case !utf8.ValidString(v):
		fe.add(field, "contiene bytes que no son texto UTF-8 válido")
	case hasControl(v, lines):
		if lines {
			fe.add(field, "contiene caracteres de control no permitidos (solo se admiten saltos de línea y tabulaciones)")
		} else {
			fe.add(field, "contiene caracteres de control o saltos de línea no permitidos")
		}
	case required && v == "":
		fe.add(field, "es obligatorio")
	case utf8.RuneCountInString(v) > max:
		fe.add(field, "es demasiado largo (máximo "+itoa(max)+" caracteres)")
	}
	return v
}

// hasControl reports whether s holds a C0 control character (NUL
// included), DEL or a C1 control character; with lines, \t, \n and \r
// are allowed. U+FFFD is ordinary text here: invalid UTF-8 in a request is
// refused where the body is read, before a decoder replaces it.
func hasControl(s string, lines bool) bool {
	for _, r := range s {
		if lines && (r == '\t' || r == '\n' || r == '\r') {
			continue
		}
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return true
		}
	}
	return false
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Alert is the state of one alert stream (alert-<uuid>).
type Alert struct {
	ID          string
	Hazard      Hazard
	Level       Level
	Status      Status
	Scope       Scope
	Title       string
	Description string
	// Resolution is the optional reference of the resolution that declared it
	// (e.g. "Res. Ex. N° 1234").
	Resolution   string
	DeclaredAt   time.Time
	UpdatedAt    time.Time
	CancelReason string
}

// Exists reports whether the alert was declared.
func (a *Alert) Exists() bool { return a.ID != "" }

// DeclareAlert declares a new alert.
type DeclareAlert struct {
	ID          string
	Hazard      Hazard
	Level       Level
	Scope       Scope
	Title       string
	Description string
	Resolution  string
	At          time.Time
}

// EditAlert changes any of an alert's level, scope and details. Nil fields
// are left as they are; the reason is recorded with every resulting event.
type EditAlert struct {
	Level       *Level
	Title       *string
	Description *string
	Resolution  *string
	Region      *bool
	Provincias  *[]string
	Comunas     *[]string
	Reason      string
	At          time.Time
}

// CancelAlert cancels an alert in force.
type CancelAlert struct {
	Reason string
	At     time.Time
}

func (DeclareAlert) commandName() string { return "declare_alert" }
func (EditAlert) commandName() string    { return "edit_alert" }
func (CancelAlert) commandName() string  { return "cancel_alert" }

// AlertDeclared: an alert was declared.
type AlertDeclared struct {
	AlertID     string    `json:"alert_id"`
	Hazard      Hazard    `json:"hazard"`
	Level       Level     `json:"level"`
	Region      bool      `json:"region"`
	Provincias  []string  `json:"provincias"`
	Comunas     []string  `json:"comunas"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Resolution  string    `json:"resolution,omitempty"`
	At          time.Time `json:"at"`
}

// AlertLevelChanged: the level was raised or lowered.
type AlertLevelChanged struct {
	From   Level     `json:"from"`
	To     Level     `json:"to"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// AlertScopeChanged: the territory changed; the new scope in full.
type AlertScopeChanged struct {
	Region     bool      `json:"region"`
	Provincias []string  `json:"provincias"`
	Comunas    []string  `json:"comunas"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
}

// AlertDetailsUpdated: title, description or resolution changed; the new
// values in full.
type AlertDetailsUpdated struct {
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Resolution  string    `json:"resolution,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	At          time.Time `json:"at"`
}

// AlertCancelled: the alert is no longer in force.
type AlertCancelled struct {
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// EventType implements Event.
func (*AlertDeclared) EventType() string       { return "alert.declared" }
func (*AlertLevelChanged) EventType() string   { return "alert.level_changed" }
func (*AlertScopeChanged) EventType() string   { return "alert.scope_changed" }
func (*AlertDetailsUpdated) EventType() string { return "alert.details_updated" }
func (*AlertCancelled) EventType() string      { return "alert.cancelled" }

// Decide implements Aggregate.
func (a *Alert) Decide(c Command) ([]Event, error) {
	switch c := c.(type) {
	case DeclareAlert:
		return a.declare(c)
	case EditAlert:
		return a.edit(c)
	case CancelAlert:
		return a.cancel(c)
	}
	return nil, ErrUnknownCommand
}

func (a *Alert) declare(c DeclareAlert) ([]Event, error) {
	if a.Exists() {
		return nil, &RuleError{Code: "alert_exists", Message: "la alerta ya fue declarada"}
	}
	fe := fieldErrors{}
	if c.ID == "" {
		fe.add("id", "es obligatorio")
	}
	if !c.Hazard.Valid() {
		fe.add("hazard", "amenaza desconocida")
	}
	if !c.Level.Valid() {
		fe.add("level", "nivel desconocido: use temprana_preventiva, amarilla o roja")
	}
	title := checkText(fe, "title", c.Title, true, MaxTitle)
	desc := checkLines(fe, "description", c.Description, false, MaxDescription)
	res := checkText(fe, "resolution", c.Resolution, false, MaxResolution)
	scope, err := NormalizeScope(c.Scope)
	if ve, ok := err.(*ValidationError); ok {
		for k, v := range ve.Fields {
			fe.add(k, v)
		}
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	return []Event{&AlertDeclared{
		AlertID: c.ID, Hazard: c.Hazard, Level: c.Level,
		Region: scope.Region, Provincias: scope.Provincias, Comunas: scope.Comunas,
		Title: title, Description: desc, Resolution: res, At: c.At,
	}}, nil
}

func (a *Alert) mustBeInForce() error {
	if !a.Exists() {
		return ErrNotFound
	}
	if a.Status == StatusCancelada {
		return &RuleError{Code: "alert_cancelled", Message: "la alerta está cancelada y no puede modificarse"}
	}
	return nil
}

func (a *Alert) edit(c EditAlert) ([]Event, error) {
	if err := a.mustBeInForce(); err != nil {
		return nil, err
	}
	fe := fieldErrors{}
	reason := checkLines(fe, "reason", c.Reason, false, MaxReason)
	var out []Event
	if c.Level != nil {
		if !c.Level.Valid() {
			fe.add("level", "nivel desconocido: use temprana_preventiva, amarilla o roja")
		} else if *c.Level != a.Level {
			out = append(out, &AlertLevelChanged{From: a.Level, To: *c.Level, Reason: reason, At: c.At})
		}
	}
	if c.Region != nil || c.Provincias != nil || c.Comunas != nil {
		next := a.Scope
		if c.Region != nil {
			next.Region = *c.Region
			if next.Region {
				next.Provincias, next.Comunas = nil, nil
			}
		}
		if c.Provincias != nil {
			next.Provincias = *c.Provincias
		}
		if c.Comunas != nil {
			next.Comunas = *c.Comunas
		}
		if (c.Provincias != nil || c.Comunas != nil) && c.Region == nil && (len(next.Provincias) > 0 || len(next.Comunas) > 0) {
			// Naming territories narrows a regional alert to them.
			next.Region = false
		}
		scope, err := NormalizeScope(next)
		if ve, ok := err.(*ValidationError); ok {
			for k, v := range ve.Fields {
				fe.add(k, v)
			}
		} else if !scope.equal(a.Scope) {
			out = append(out, &AlertScopeChanged{Region: scope.Region, Provincias: scope.Provincias, Comunas: scope.Comunas, Reason: reason, At: c.At})
		}
	}
	if c.Title != nil || c.Description != nil || c.Resolution != nil {
		title, desc, res := a.Title, a.Description, a.Resolution
		if c.Title != nil {
			title = checkText(fe, "title", *c.Title, true, MaxTitle)
		}
		if c.Description != nil {
			desc = checkLines(fe, "description", *c.Description, false, MaxDescription)
		}
		if c.Resolution != nil {
			res = checkText(fe, "resolution", *c.Resolution, false, MaxResolution)
		}
		if title != a.Title || desc != a.Description || res != a.Resolution {
			out = append(out, &AlertDetailsUpdated{Title: title, Description: desc, Resolution: res, Reason: reason, At: c.At})
		}
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (a *Alert) cancel(c CancelAlert) ([]Event, error) {
	if err := a.mustBeInForce(); err != nil {
		return nil, err
	}
	fe := fieldErrors{}
	reason := checkLines(fe, "reason", c.Reason, false, MaxReason)
	if err := fe.err(); err != nil {
		return nil, err
	}
	return []Event{&AlertCancelled{Reason: reason, At: c.At}}, nil
}

// Apply implements Aggregate.
func (a *Alert) Apply(e Event) {
	switch e := e.(type) {
	case *AlertDeclared:
		*a = Alert{
			ID: e.AlertID, Hazard: e.Hazard, Level: e.Level, Status: StatusVigente,
			Scope: Scope{Region: e.Region, Provincias: e.Provincias, Comunas: e.Comunas},
			Title: e.Title, Description: e.Description, Resolution: e.Resolution,
			DeclaredAt: e.At, UpdatedAt: e.At,
		}
	case *AlertLevelChanged:
		a.Level, a.UpdatedAt = e.To, e.At
	case *AlertScopeChanged:
		a.Scope = Scope{Region: e.Region, Provincias: e.Provincias, Comunas: e.Comunas}
		a.UpdatedAt = e.At
	case *AlertDetailsUpdated:
		a.Title, a.Description, a.Resolution, a.UpdatedAt = e.Title, e.Description, e.Resolution, e.At
	case *AlertCancelled:
		a.Status, a.CancelReason, a.UpdatedAt = StatusCancelada, e.Reason, e.At
	}
}
