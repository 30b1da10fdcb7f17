package intake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/ingest"
	"github.com/senapred-valparaiso/vigia/jobs"
	"github.com/senapred-valparaiso/vigia/notice"
)

// KindParse is the River job kind that parses and appends one informe.
const KindParse = "informe_parse"

// Job statuses, as the API shows them.
const (
	StatusQueued  = "queued"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// ErrNotFound is returned by Job for an unknown job ID.
var ErrNotFound = errors.New("intake: job not found")

// Upload is a received file to parse.
type Upload struct {
	Filename string
	Data     []byte
	// Source is domain.SourceUpload, SourceMailbox or SourceImport.
	Source string
	// Sender and Subject, for a file taken from an e-mail.
	Sender, Subject string
	// By is who uploaded it (the job appends as a system actor naming them).
	By eventstore.Actor
}

// Job is one parse job as clients see it.
type Job struct {
	ID         int64       `json:"id"`
	Status     string      `json:"status"`
	Filename   string      `json:"filename"`
	SHA256     string      `json:"sha256"`
	Source     string      `json:"source"`
	Warnings   []string    `json:"warnings"`
	Error      *Problem    `json:"error"`
	Informe    *InformeRef `json:"informe"`
	Attempt    int         `json:"attempt"`
	CreatedAt  time.Time   `json:"created_at"`
	FinishedAt *time.Time  `json:"finished_at"`
}

// Problem is why a job failed, in Spanish, for the operator.
type Problem struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// InformeRef names the informe a job recorded.
type InformeRef struct {
	Date    string `json:"date"`
	Edition string `json:"edition"`
}

// Notifier hears every change of a job's status (queued, running, done,
// failed). It must not block.
type Notifier interface {
	JobChanged(Job)
}

// parseArgs is the stored job: the file itself travels in the job, so it
// is as durable as the job and every instance of a fleet can run it.
type parseArgs struct {
	SHA256   string           `json:"sha256" river:"unique"`
	Filename string           `json:"filename"`
	Source   string           `json:"source"`
	Sender   string           `json:"sender,omitempty"`
	Subject  string           `json:"subject,omitempty"`
	By       eventstore.Actor `json:"by"`
	Data     []byte           `json:"data"`
}

func (parseArgs) Kind() string { return KindParse }

// InsertOpts: unique by SHA-256 while a job for it is queued, running or
// done (a failed file may be sent again); a transient failure (the event
// store unreachable) is retried with River's backoff.
func (parseArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// output is what a finished attempt records on its job.
type output struct {
	Warnings []string    `json:"warnings,omitempty"`
	Informe  *InformeRef `json:"informe,omitempty"`
	Error    *Problem    `json:"error,omitempty"`
}

// Service submits files and reports on their jobs.
type Service struct {
	engine *jobs.Engine
	notify Notifier
}

// New returns the intake service over a jobs engine on which the worker
// returned by NewWorker is registered.
func New(engine *jobs.Engine, notify Notifier) *Service {
	return &Service{engine: engine, notify: notify}
}

// Submit stores the file as a parse job and returns it. A file whose
// SHA-256 already has a queued, running or finished job returns that job
// and duplicate=true, and stores nothing. Files over ingest.MaxFileSize are
// refused with an *ingest.Error (kind ingest.ErrTooLarge).
func (s *Service) Submit(ctx context.Context, u Upload) (job Job, duplicate bool, err error) {
	if len(u.Data) > ingest.MaxFileSize {
		return Job{}, false, &ingest.Error{Kind: ingest.ErrTooLarge, Title: "El archivo es demasiado grande",
			Detail: fmt.Sprintf("El archivo pesa %.1f MiB; el máximo aceptado es %d MiB.", float64(len(u.Data))/(1<<20), ingest.MaxFileSize>>20)}
	}
	sum := sha256.Sum256(u.Data)
	args := parseArgs{
		SHA256: hex.EncodeToString(sum[:]), Filename: cleanName(u.Filename), Source: u.Source,
		Sender: u.Sender, Subject: u.Subject, By: u.By, Data: u.Data,
	}
	res, err := s.engine.Insert(ctx, args, nil)
	if err != nil {
		return Job{}, false, err
	}
	job = view(res.Job)
	if !res.UniqueSkippedAsDuplicate {
		s.notify.JobChanged(job)
	}
	return job, res.UniqueSkippedAsDuplicate, nil
}

// cleanName keeps the base name of an uploaded file, bounded.
func cleanName(name string) string {
	name = path.Base(strings.ReplaceAll(strings.TrimSpace(name), `\`, "/"))
	if name == "." || name == "/" {
		return "informe.docx"
	}
	if r := []rune(name); len(r) > 200 {
		name = string(r[:200])
	}
	return name
}

// Job returns one parse job.
func (s *Service) Job(ctx context.Context, id int64) (Job, error) {
	row, err := s.engine.Job(ctx, id)
	if errors.Is(err, jobs.ErrNotFound) || (err == nil && row.Kind != KindParse) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, err
	}
	return view(row), nil
}

// Jobs lists the newest parse jobs, newest first.
func (s *Service) Jobs(ctx context.Context, limit int) ([]Job, error) {
	rows, err := s.engine.Jobs(ctx, limit, KindParse)
	if err != nil {
		return nil, err
	}
	out := make([]Job, len(rows))
	for i, r := range rows {
		out[i] = view(r)
	}
	return out, nil
}

// view turns a River row into the API's job.
func view(r *rivertype.JobRow) Job {
	var a struct {
		SHA256   string `json:"sha256"`
		Filename string `json:"filename"`
		Source   string `json:"source"`
	}
	_ = json.Unmarshal(r.EncodedArgs, &a) // written by Submit; a bad row shows empty fields
	var o output
	if raw := r.Output(); len(raw) > 0 {
		_ = json.Unmarshal(raw, &o)
	}
	j := Job{
		ID: r.ID, Filename: a.Filename, SHA256: a.SHA256, Source: a.Source,
		Warnings: o.Warnings, Informe: o.Informe, Error: o.Error, Attempt: r.Attempt,
		CreatedAt: r.CreatedAt.UTC(), FinishedAt: r.FinalizedAt,
	}
	switch r.State {
	case rivertype.JobStateRunning:
		j.Status = StatusRunning
	case rivertype.JobStateCompleted:
		j.Status = StatusDone
	case rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		j.Status = StatusFailed
		if j.Error == nil {
			j.Error = lastError(r)
		}
	default:
		j.Status = StatusQueued
	}
	if j.Warnings == nil {
		j.Warnings = []string{}
	}
	return j
}

func lastError(r *rivertype.JobRow) *Problem {
	p := &Problem{Title: "No se pudo registrar el informe", Detail: "El trabajo falló; intente subir el archivo de nuevo."}
	if n := len(r.Errors); n > 0 {
		p.Detail = r.Errors[n-1].Error
	}
	return p
}

// worker runs parse jobs.
type worker struct {
	river.WorkerDefaults[parseArgs]
	commands *command.Handler
	loc      *time.Location
	notify   Notifier
	log      zerolog.Logger
}

// NewWorker registers the parse job's worker on workers: it parses with
// ingest and appends through commands; loc is the zone informe times are
// stated in (America/Santiago).
func NewWorker(workers *river.Workers, commands *command.Handler, loc *time.Location, notify Notifier, log zerolog.Logger) {
	river.AddWorker(workers, &worker{commands: commands, loc: loc, notify: notify, log: log.With().Str("component", "intake").Logger()})
}

// Timeout bounds one attempt (a parse takes milliseconds).
func (w *worker) Timeout(*river.Job[parseArgs]) time.Duration { return 30 * time.Second }

func (w *worker) Work(ctx context.Context, j *river.Job[parseArgs]) error {
	running := view(j.JobRow)
	running.Status = StatusRunning
	w.notify.JobChanged(running)
	out, err := w.work(ctx, j.Args)
	if recErr := river.RecordOutput(ctx, out); recErr != nil {
		w.log.Error().Err(recErr).Int64("job", j.ID).Msg("job output not recorded")
	}
	final := running
	final.Warnings, final.Informe, final.Error = out.Warnings, out.Informe, out.Error
	now := time.Now().UTC()
	switch {
	case err == nil:
		final.Status, final.FinishedAt = StatusDone, &now
	case out.Error != nil: // the file is at fault: retrying cannot help
		final.Status, final.FinishedAt = StatusFailed, &now
		err = river.JobCancel(err)
	default:
		final.Status = StatusQueued // retried with backoff
		if j.Attempt >= j.MaxAttempts {
			final.Status, final.FinishedAt = StatusFailed, &now
		}
		final.Error = &Problem{Title: "No se pudo registrar el informe", Detail: "Se reintentará: " + err.Error()}
	}
	if final.Warnings == nil {
		final.Warnings = []string{}
	}
	w.notify.JobChanged(final)
	return err
}

// work parses and appends. An error with out.Error set is the file's fault.
func (w *worker) work(ctx context.Context, a parseArgs) (output, error) {
	inf, err := ingest.Parse(a.Data, a.Filename)
	var ie *ingest.Error
	if errors.As(err, &ie) {
		return output{Error: &Problem{Title: ie.Title, Detail: ie.Detail}}, err
	}
	if err != nil {
		return output{Error: &Problem{Title: "No se pudo leer el informe", Detail: err.Error()}}, err
	}
	out := output{Warnings: inf.Warnings, Informe: &InformeRef{Date: inf.Date, Edition: inf.Edition}}
	cmd, err := receiveCommand(inf, a, w.loc, w.commands.Now())
	if err != nil {
		out.Error = &Problem{Title: "No se pudo leer el informe", Detail: err.Error()}
		return out, err
	}
	meta := command.Meta{Actor: systemActor(a), CorrelationID: "intake:" + a.SHA256[:16]}
	_, err = w.commands.Execute(ctx, domain.InformeStream(inf.Date), meta, nil, command.Command(cmd))
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		out.Error = &Problem{Title: "El informe no es válido", Detail: ve.Error()}
	}
	return out, err
}

// systemActor is who appends an informe: the intake, naming whom it acts for.
func systemActor(a parseArgs) eventstore.Actor {
	by := a.By.Username
	if by == "" {
		by = a.Source
	}
	return eventstore.Actor{ID: "system:intake", Username: "intake:" + by, Role: "system"}
}

// receiveCommand builds the domain command for a parsed informe.
func receiveCommand(inf *ingest.Informe, a parseArgs, loc *time.Location, now time.Time) (domain.ReceiveInforme, error) {
	content, err := json.Marshal(inf.Content)
	if err != nil {
		return domain.ReceiveInforme{}, fmt.Errorf("encode informe content: %w", err)
	}
	issued := now
	if d, err := time.ParseInLocation("2006-01-02 15:04", inf.Date+" "+inf.Time, loc); err == nil {
		issued = d
	} else if d, err := time.ParseInLocation("2006-01-02", inf.Date, loc); err == nil {
		issued = d
	}
	return domain.ReceiveInforme{
		Header: domain.InformeHeader{
			Date: inf.Date, Title: "Informe de Situación Regional " + inf.Edition, Source: a.Source, IssuedAt: issued,
		},
		Edition: domain.InformeEdition{
			Edition: inf.Edition, Time: inf.Time, Filename: a.Filename, SHA256: a.SHA256,
			Sender: a.Sender, Subject: a.Subject, Warnings: inf.Warnings, Content: content,
		},
		At: now,
	}, nil
}

// announcer is where job changes are published (realtime.Publisher).
type announcer interface {
	Announce(notice.Message) error
}

// PublishTo returns a Notifier that announces each job change on the
// WebSocket topic "informes" as {"type":"informe.job","data":{job}}. A
// change that cannot be queued is dropped: the job's state stays readable
// at GET /api/informes/jobs/{id}.
func PublishTo(a announcer) Notifier { return publisher{a} }

type publisher struct{ a announcer }

func (p publisher) JobChanged(j Job) {
	data, err := json.Marshal(j)
	if err != nil {
		return
	}
	_ = p.a.Announce(notice.Message{Type: "informe.job", Topic: notice.TopicInformes, Data: data})
}
