package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/senapred-valparaiso/vigia/domain"
)

// BoardAlert is an alert in force on the board, as Reconcile needs it. It
// is declared here so that ingest does not import the read models; the
// caller copies its rows into it.
type BoardAlert struct {
	ID      string
	Hazard  domain.Hazard
	Level   domain.Level
	Scope   domain.Scope
	Version uint64
	Title   string
}

// ItemKind is the kind of a difference between an informe and the board.
// (Named apart from Error.Kind, which is an error sentinel.)
type ItemKind string

// Kinds of Item.
const (
	// KindMissing: a row of the informe matches no alert on the board.
	KindMissing ItemKind = "missing"
	// KindLevel: a row matches an alert whose level differs.
	KindLevel ItemKind = "level"
	// KindScope: a row matches an alert whose territory differs.
	KindScope ItemKind = "scope"
	// KindExtra: an alert in force matches no row of the informe.
	KindExtra ItemKind = "extra"
	// KindUnreadable: a row could not be read completely (see
	// Proposal.Problems); it takes no part in matching.
	KindUnreadable ItemKind = "unreadable"
)

// Item is one difference between an informe and the board.
type Item struct {
	// ID identifies the difference: a hash of the kind, the row (index and
	// text) and the alert's ID, so the same informe against the same
	// alerts gives the same IDs. It does not identify the informe: callers
	// that keep items keep them per informe.
	ID   string
	Kind ItemKind
	// Proposal is the informe's row; nil for KindExtra. Proposal and Alert
	// point to copies that Reconcile made: changing them changes nothing
	// else.
	Proposal *Proposal
	// Alert is the board's alert; nil for KindMissing and KindUnreadable.
	Alert *BoardAlert
	// Summary says the difference in one line of Spanish.
	Summary string
	// Actionable reports whether the difference can be fixed on the board
	// from the informe alone: false for KindUnreadable, and for KindExtra
	// when an unreadable row of the same hazard may be that alert.
	Actionable bool
}

// Reconcile lists the differences between an informe's proposals and the
// alerts in force.
//
// Matching: a readable proposal and an alert may match when they have the
// same hazard (for otro, when the alert's title contains the proposal's
// HazardText, as Proposal.Title writes it) and their territories overlap,
// compared comuna by comuna (a province stands for its comunas, the region
// for all). Each proposal matches at most one alert and each alert at most
// one proposal, chosen greedily over all candidate pairs, best first: same
// territory, then same level, then most comunas in common, then row and
// alert ID. So an informe with "Temprana Preventiva, Regional continental"
// and "Amarilla, Provincia de Los Andes" for the same hazard matches the
// two alerts that say exactly that, though their territories overlap.
//
// Items: an unmatched proposal is KindMissing; a matched pair gives a
// KindLevel item when the levels differ and a KindScope item when the
// territories differ (both, as two items, when both differ: each is one
// edit on the board); an unmatched alert is KindExtra; a proposal with
// problems is KindUnreadable. Items come in row order (level before scope),
// then the extras by alert ID.
func Reconcile(proposals []Proposal, board []BoardAlert) []Item {
	props := make([]Proposal, len(proposals))
	copy(props, proposals)
	alerts := make([]BoardAlert, len(board))
	copy(alerts, board)
	sort.SliceStable(alerts, func(i, j int) bool { return alerts[i].ID < alerts[j].ID })

	propOf, alertOf := pair(props, alerts)
	var items []Item
	for i := range props {
		p := &props[i]
		if !p.Actionable() {
			items = append(items, unreadableItem(p))
			continue
		}
		j, ok := alertOf[i]
		if !ok {
			items = append(items, newItem(KindMissing, p, nil, "Falta en el tablero: "+p.Title(), true))
			continue
		}
		a := &alerts[j]
		if p.Level != a.Level {
			items = append(items, newItem(KindLevel, p, a, fmt.Sprintf("Nivel distinto en «%s»: el informe (fila %d) dice %s y el tablero %s",
				oneLine(a.Title), p.Row+1, p.Level.Label(), a.Level.Label()), true))
		}
		if !sameTerritory(p.Scope, a.Scope) {
			items = append(items, newItem(KindScope, p, a, fmt.Sprintf("Cobertura distinta en «%s»: el informe (fila %d) dice «%s» y el tablero cubre %s (%s)",
				oneLine(a.Title), p.Row+1, oneLine(p.Alerta.Cobertura), DescribeScope(a.Scope), scopeDiff(p.Scope, a.Scope)), true))
		}
	}
	for j := range alerts {
		if _, ok := propOf[j]; ok {
			continue
		}
		a := &alerts[j]
		summary := fmt.Sprintf("En el tablero pero no en el informe: «%s» (%s por %s en %s)", oneLine(a.Title), a.Level.Label(), a.Hazard.Label(), DescribeScope(a.Scope))
		actionable := true
		for i := range props {
			if !props[i].Actionable() && props[i].Hazard == a.Hazard {
				summary += fmt.Sprintf("; podría ser la fila %d del informe, que no se pudo interpretar", props[i].Row+1)
				actionable = false
				break
			}
		}
		items = append(items, newItem(KindExtra, nil, a, summary, actionable))
	}
	return items
}

// candidate is a proposal and an alert that may be the same alert.
type candidate struct {
	p, a               int
	sameScope, sameLvl bool
	common             int
	row                int
	alertID            string
}

// pair pairs proposals with alerts as Reconcile documents; it returns
// alert index → proposal index and proposal index → alert index.
func pair(props []Proposal, alerts []BoardAlert) (propOf, alertOf map[int]int) {
	var cands []candidate
	for i := range props {
		p := &props[i]
		if !p.Actionable() {
			continue
		}
		pc := p.Scope.ComunaCodes()
		for j := range alerts {
			a := &alerts[j]
			if !sameHazard(p, a) {
				continue
			}
			common := intersect(pc, a.Scope.ComunaCodes())
			if common == 0 {
				continue
			}
			cands = append(cands, candidate{p: i, a: j, sameScope: sameTerritory(p.Scope, a.Scope),
				sameLvl: p.Level == a.Level, common: common, row: p.Row, alertID: a.ID})
		}
	}
	sort.SliceStable(cands, func(x, y int) bool {
		a, b := cands[x], cands[y]
		switch {
		case a.sameScope != b.sameScope:
			return a.sameScope
		case a.sameLvl != b.sameLvl:
			return a.sameLvl
		case a.common != b.common:
			return a.common > b.common
		case a.row != b.row:
			return a.row < b.row
		case a.p != b.p:
			return a.p < b.p
		}
		return a.alertID < b.alertID
	})
	propOf, alertOf = map[int]int{}, map[int]int{}
	for _, c := range cands {
		_, pTaken := alertOf[c.p]
		_, aTaken := propOf[c.a]
		if pTaken || aTaken {
			continue
		}
		alertOf[c.p], propOf[c.a] = c.a, c.p
	}
	return propOf, alertOf
}

// sameHazard reports whether p and a are about the same hazard; an otro
// alert is the proposal's when its title names the proposal's text.
func sameHazard(p *Proposal, a *BoardAlert) bool {
	if p.Hazard != a.Hazard {
		return false
	}
	if p.Hazard != domain.HazardOtro {
		return true
	}
	t := clean(p.HazardText)
	return t != "" && containsWords(clean(a.Title), t)
}

func sameTerritory(a, b domain.Scope) bool {
	x, y := a.ComunaCodes(), b.ComunaCodes()
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// intersect counts the codes in both sorted lists.
func intersect(a, b []string) int {
	n := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return n
}

func unreadableItem(p *Proposal) Item {
	return newItem(KindUnreadable, p, nil, fmt.Sprintf("Fila %d del informe sin interpretar: %s", p.Row+1, strings.Join(p.Problems, "; ")), false)
}

func newItem(k ItemKind, p *Proposal, a *BoardAlert, summary string, actionable bool) Item {
	return Item{ID: itemID(k, p, a), Kind: k, Proposal: p, Alert: a, Summary: summary, Actionable: actionable}
}

// itemID hashes what identifies a difference: its kind, the row and the
// alert's ID. The version prefix lets the recipe change without reusing IDs.
func itemID(k ItemKind, p *Proposal, a *BoardAlert) string {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	field("v1")
	field(string(k))
	if p != nil {
		field(fmt.Sprint(p.Row))
		field(p.Alerta.Nivel)
		field(p.Alerta.Evento)
		field(p.Alerta.Cobertura)
		field(p.Alerta.Amplitud)
	} else {
		field("-")
	}
	if a != nil {
		field(a.ID)
	}
	return string(k) + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// DescribeScope names a scope in Spanish: "toda la región", "la región
// continental", "provincia de Los Andes y comunas de Quilpué y Limache".
func DescribeScope(s domain.Scope) string {
	if s.Region {
		return "toda la región"
	}
	if sameTerritory(s, domain.Scope{Comunas: continental()}) {
		return "la región continental"
	}
	var parts []string
	if n := len(s.Provincias); n > 0 {
		names := make([]string, n)
		for i, p := range s.Provincias {
			names[i] = domain.ProvinciaName(p)
		}
		parts = append(parts, plural(n, "provincia", "provincias")+" de "+joinY(names))
	}
	if n := len(s.Comunas); n > 0 {
		parts = append(parts, plural(n, "comuna", "comunas")+" de "+joinY(comunaNames(s.Comunas)))
	}
	if len(parts) == 0 {
		return "ningún territorio"
	}
	return strings.Join(parts, " y ")
}

// scopeDiff says which comunas the informe has that the board lacks, and
// the reverse, naming at most a few of each.
func scopeDiff(informe, board domain.Scope) string {
	in, on := map[string]bool{}, map[string]bool{}
	for _, c := range informe.ComunaCodes() {
		in[c] = true
	}
	for _, c := range board.ComunaCodes() {
		on[c] = true
	}
	var missing, extra []string
	for _, c := range informe.ComunaCodes() {
		if !on[c] {
			missing = append(missing, c)
		}
	}
	for _, c := range board.ComunaCodes() {
		if !in[c] {
			extra = append(extra, c)
		}
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "faltan en el tablero "+fewNames(missing))
	}
	if len(extra) > 0 {
		parts = append(parts, "sobran "+fewNames(extra))
	}
	return strings.Join(parts, "; ")
}

// fewNames lists up to five comunas by name, then how many more.
func fewNames(codes []string) string {
	const most = 5
	names := comunaNames(codes)
	if len(names) <= most {
		return joinY(names)
	}
	return strings.Join(names[:most], ", ") + fmt.Sprintf(" y %d más", len(names)-most)
}

func comunaNames(codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = domain.ComunaName(c)
	}
	return out
}

// joinY joins names as Spanish does: "A", "A y B", "A, B y C".
func joinY(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " y " + names[len(names)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
