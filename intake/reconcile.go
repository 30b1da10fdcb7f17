package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/ingest"
	"github.com/senapred-valparaiso/vigia/projections"
)

// Reconciliation statuses of an item.
const (
	ItemOpen      = "open"
	ItemAccepted  = "accepted"
	ItemDismissed = "dismissed"
)

// ErrNotActionable is returned by Accept for an item the informe does not
// say clearly enough to apply (its cobertura or nivel could not be read).
var ErrNotActionable = &domain.RuleError{Code: "not_actionable", Message: "el informe no permite aplicar esta diferencia: revísela a mano"}

// ErrVersionRequired is returned by Accept when the item changes an alert
// and the caller did not say which version of it they saw.
var ErrVersionRequired = errors.New("intake: the alert's version is required")

// Reconciliation is the day's current informe compared with the board.
type Reconciliation struct {
	Date    string      `json:"date"`
	Informe *ReceiptRef `json:"informe"`
	Items   []ItemView  `json:"items"`
	At      time.Time   `json:"at"`
	sha     string      // the informe the items come from
}

// ReceiptRef names the informe the items come from.
type ReceiptRef struct {
	Edition    string    `json:"edition"`
	Time       string    `json:"time"`
	SHA256     string    `json:"sha256"`
	Filename   string    `json:"filename"`
	ReceivedAt time.Time `json:"received_at"`
}

// ItemView is one difference as clients see it.
type ItemView struct {
	ID         string               `json:"id"`
	Kind       string               `json:"kind"`
	Summary    string               `json:"summary"`
	Actionable bool                 `json:"actionable"`
	Status     string               `json:"status"`
	Decision   *domain.ItemDecision `json:"decision"`
	Proposal   *ProposalView        `json:"proposal"`
	Alert      *BoardAlertView      `json:"alert"`
}

// ProposalView is the informe's row read as an alert.
type ProposalView struct {
	Row        int           `json:"row"`
	Level      string        `json:"level"`
	Hazard     string        `json:"hazard"`
	HazardText string        `json:"hazard_text"`
	Title      string        `json:"title"`
	Scope      domain.Scope  `json:"scope"`
	Problems   []string      `json:"problems"`
	Alerta     ingest.Alerta `json:"alerta"`
}

// BoardAlertView is the board's alert an item concerns.
type BoardAlertView struct {
	ID      string       `json:"id"`
	Level   string       `json:"level"`
	Hazard  string       `json:"hazard"`
	Title   string       `json:"title"`
	Version uint64       `json:"version"`
	Scope   domain.Scope `json:"scope"`
}

// alertReader is what the reconciler reads of the board (projections.Queries).
type alertReader interface {
	Alerts(ctx context.Context, status string) ([]projections.AlertView, error)
}

// streamReader finds the informe event an item came from (the event store).
type streamReader interface {
	ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.Event, error)
}

// Reconciler compares the day's current informe with the alerts in force
// and applies or dismisses the differences, through the ordinary commands.
type Reconciler struct {
	commands *command.Handler
	board    alertReader
	streams  streamReader
}

// NewReconciler returns a reconciler over the command path, the read
// models and the event store.
func NewReconciler(commands *command.Handler, board alertReader, streams streamReader) *Reconciler {
	return &Reconciler{commands: commands, board: board, streams: streams}
}

// Reconcile lists the differences between the day's current informe (its
// latest received document) and the alerts in force: the open ones, worked
// out now, and those already decided (which no longer differ once
// accepted). A day without an informe has no items.
func (r *Reconciler) Reconcile(ctx context.Context, date string) (Reconciliation, error) {
	out := Reconciliation{Date: date, Items: []ItemView{}, At: r.commands.Now()}
	if !domain.ValidDate(date) {
		return out, &domain.ValidationError{Fields: map[string]string{"date": "fecha no válida: use AAAA-MM-DD"}}
	}
	l, err := r.commands.Load(ctx, domain.InformeStream(date))
	if err != nil {
		return out, err
	}
	inf, _ := l.State.(*domain.Informe)
	if inf == nil || len(inf.Received) == 0 {
		return out, nil
	}
	cur := inf.Received[len(inf.Received)-1]
	out.sha = cur.SHA256
	out.Informe = &ReceiptRef{Edition: cur.Edition, Time: cur.Time, SHA256: cur.SHA256, Filename: cur.Filename, ReceivedAt: cur.ReceivedAt}
	var content ingest.Content
	if len(cur.Content) > 0 {
		if err := json.Unmarshal(cur.Content, &content); err != nil {
			return out, fmt.Errorf("informe %s content: %w", date, err)
		}
	}
	alerts, err := r.board.Alerts(ctx, string(domain.StatusVigente))
	if err != nil {
		return out, err
	}
	board := make([]ingest.BoardAlert, len(alerts))
	for i, a := range alerts {
		board[i] = ingest.BoardAlert{ID: a.ID, Hazard: domain.Hazard(a.Hazard), Level: domain.Level(a.Level), Version: a.Version, Title: a.Title,
			Scope: domain.Scope{Region: a.Region, Provincias: a.Provincias, Comunas: a.Comunas}}
	}
	for _, it := range ingest.Reconcile(ingest.Propose(content.Alertas), board) {
		v := itemView(it)
		if d, ok := inf.Decisions[domain.DecisionKey(cur.SHA256, it.ID)]; ok {
			v.Status, v.Decision = decided(d), &d
		}
		out.Items = append(out.Items, v)
	}
	// Decisions on items that no longer differ (the board now agrees).
	listed := map[string]bool{}
	for _, v := range out.Items {
		listed[v.ID] = true
	}
	for _, d := range inf.Decisions {
		if d.SHA256 != cur.SHA256 || listed[d.ItemID] {
			continue
		}
		d := d
		out.Items = append(out.Items, ItemView{ID: d.ItemID, Kind: d.Kind, Summary: d.Summary, Status: decided(d), Decision: &d})
	}
	return out, nil
}

func decided(d domain.ItemDecision) string {
	if d.Accepted {
		return ItemAccepted
	}
	return ItemDismissed
}

func itemView(it ingest.Item) ItemView {
	v := ItemView{ID: it.ID, Kind: string(it.Kind), Summary: it.Summary, Actionable: it.Actionable, Status: ItemOpen}
	if p := it.Proposal; p != nil {
		v.Proposal = &ProposalView{Row: p.Row, Level: string(p.Level), Hazard: string(p.Hazard), HazardText: p.HazardText,
			Title: p.Title(), Scope: p.Scope, Problems: p.Problems, Alerta: p.Alerta}
		if v.Proposal.Problems == nil {
			v.Proposal.Problems = []string{}
		}
	}
	if a := it.Alert; a != nil {
		v.Alert = &BoardAlertView{ID: a.ID, Level: string(a.Level), Hazard: string(a.Hazard), Title: a.Title, Version: a.Version, Scope: a.Scope}
	}
	return v
}

// open finds an open item of the day's current informe.
func (r *Reconciler) open(ctx context.Context, date, itemID string) (Reconciliation, ingest.Item, error) {
	rec, err := r.Reconcile(ctx, date)
	if err != nil {
		return rec, ingest.Item{}, err
	}
	for _, v := range rec.Items {
		if v.ID != itemID {
			continue
		}
		if v.Status != ItemOpen {
			return rec, ingest.Item{}, &domain.RuleError{Code: "already_decided", Message: "ya se decidió sobre esta diferencia"}
		}
		return rec, toItem(v), nil
	}
	return rec, ingest.Item{}, domain.ErrNotFound
}

// toItem turns a view back into what Accept needs of it.
func toItem(v ItemView) ingest.Item {
	it := ingest.Item{ID: v.ID, Kind: ingest.ItemKind(v.Kind), Summary: v.Summary, Actionable: v.Actionable}
	if p := v.Proposal; p != nil {
		it.Proposal = &ingest.Proposal{Row: p.Row, Level: domain.Level(p.Level), Hazard: domain.Hazard(p.Hazard), HazardText: p.HazardText,
			Scope: p.Scope, Problems: p.Problems, Alerta: p.Alerta}
	}
	if a := v.Alert; a != nil {
		it.Alert = &ingest.BoardAlert{ID: a.ID, Level: domain.Level(a.Level), Hazard: domain.Hazard(a.Hazard), Title: a.Title, Version: a.Version, Scope: a.Scope}
	}
	return it
}

// Decided is what Accept and Dismiss return: the item as decided, and the
// results of the commands they ran (for read-your-writes).
type Decided struct {
	Item    ItemView
	Results []command.Result
}

// Accept applies an open item to the board with the ordinary command
// (declare for a missing alert, edit for a level or scope, cancel for an
// alert the informe no longer lists), caused by the informe's event, then
// records the decision. version is the alert's version the operator saw
// (nil is refused with ErrVersionRequired for items on an existing alert);
// a stale one is the usual *command.StaleError.
func (r *Reconciler) Accept(ctx context.Context, date, itemID string, version *uint64, meta command.Meta) (Decided, error) {
	rec, it, err := r.open(ctx, date, itemID)
	if err != nil {
		return Decided{}, err
	}
	if !it.Actionable {
		return Decided{}, ErrNotActionable
	}
	cause, err := r.informeEventID(ctx, date, rec.sha)
	if err != nil {
		return Decided{}, err
	}
	m := meta
	m.CausationID = cause
	now := r.commands.Now()
	why := fmt.Sprintf("según el informe %s del %s", rec.Informe.Edition, date)
	var (
		stream string
		pre    command.Precondition
		cmd    domain.Command
	)
	switch it.Kind {
	case ingest.KindMissing:
		p := it.Proposal
		id := uuid.NewString()
		stream = domain.AlertStream(id)
		cmd = domain.DeclareAlert{ID: id, Hazard: p.Hazard, Level: p.Level, Scope: p.Scope, Title: p.Title(), At: now,
			Description: fmt.Sprintf("Declarada %s (%s; %s).", why, p.Alerta.Evento, p.Alerta.Cobertura)}
	case ingest.KindLevel, ingest.KindScope, ingest.KindExtra:
		if version == nil {
			return Decided{}, ErrVersionRequired
		}
		stream, pre = domain.AlertStream(it.Alert.ID), command.IfVersion(command.Stream{}, *version)
		switch it.Kind {
		case ingest.KindLevel:
			cmd = domain.EditAlert{Level: &it.Proposal.Level, Reason: "Nivel " + why, At: now}
		case ingest.KindScope:
			s := it.Proposal.Scope
			cmd = domain.EditAlert{Region: &s.Region, Provincias: &s.Provincias, Comunas: &s.Comunas, Reason: "Cobertura " + why, At: now}
		default:
			cmd = domain.CancelAlert{Reason: "No figura en el informe " + rec.Informe.Edition + " del " + date, At: now}
		}
	default:
		return Decided{}, ErrNotActionable
	}
	res, err := r.commands.Execute(ctx, stream, m, pre, command.Command(cmd))
	if err != nil {
		return Decided{}, err
	}
	alertID := ""
	if a, ok := res.State.(*domain.Alert); ok {
		alertID = a.ID
	}
	d := domain.ItemDecision{SHA256: rec.sha, Edition: rec.Informe.Edition, ItemID: it.ID, Kind: string(it.Kind), Summary: it.Summary, Accepted: true,
		AlertID: alertID, By: meta.Actor.Username, At: now}
	if len(res.Events) > 0 {
		m.CausationID = res.Events[len(res.Events)-1].ID.String()
	}
	dres, err := r.commands.Execute(ctx, domain.InformeStream(date), m, nil, command.Command(domain.DecideItem{Decision: d}))
	if err != nil {
		return Decided{}, fmt.Errorf("record the decision on %s (the board was changed): %w", it.ID, err)
	}
	v := itemView(it)
	v.Status, v.Decision = ItemAccepted, &d
	return Decided{Item: v, Results: []command.Result{res, dres}}, nil
}

// Dismiss records that an open item is not to be applied, and why.
func (r *Reconciler) Dismiss(ctx context.Context, date, itemID, reason string, meta command.Meta) (Decided, error) {
	rec, it, err := r.open(ctx, date, itemID)
	if err != nil {
		return Decided{}, err
	}
	d := domain.ItemDecision{SHA256: rec.sha, Edition: rec.Informe.Edition, ItemID: it.ID, Kind: string(it.Kind), Summary: it.Summary, Reason: reason,
		By: meta.Actor.Username, At: r.commands.Now()}
	if cause, err := r.informeEventID(ctx, date, rec.sha); err == nil {
		meta.CausationID = cause
	}
	res, err := r.commands.Execute(ctx, domain.InformeStream(date), meta, nil, command.Command(domain.DecideItem{Decision: d}))
	if err != nil {
		return Decided{}, err
	}
	v := itemView(it)
	v.Status, v.Decision = ItemDismissed, &d
	return Decided{Item: v, Results: []command.Result{res}}, nil
}

// informeEventID is the ID of the event that recorded the informe sha.
func (r *Reconciler) informeEventID(ctx context.Context, date, sha string) (string, error) {
	evs, err := r.streams.ReadStream(ctx, domain.InformeStream(date), eventstore.Last, eventstore.Backwards, 0)
	if err != nil {
		return "", err
	}
	for _, ev := range evs {
		if ev.Type != "informe.received" {
			continue
		}
		e, err := domain.Decode(ev.Type, ev.Schema, ev.Data)
		if err != nil {
			continue
		}
		if rcv, ok := e.(*domain.InformeReceived); ok && rcv.SHA256 == sha {
			return ev.ID.String(), nil
		}
	}
	return "", fmt.Errorf("informe %s: no event recorded %s", date, sha)
}
