package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// projector is the running projection, for read-your-writes and readiness.
type projector interface {
	WaitFor(ctx context.Context, pos eventstore.Position) error
	Position() eventstore.Position
	Live() bool
	// Leading reports whether this instance's projector is the one
	// applying events (always, with the memory read model): only then does
	// its position say when the read model changes.
	Leading() bool
}

// Check is one dependency /readyz reports on.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Config is everything the web layer needs; cmd/hub builds it.
type Config struct {
	Log       zerolog.Logger
	Commands  *command.Handler
	Reads     projections.Queries
	Projector projector
	// Checks are the dependencies /readyz reports.
	Checks []Check
	// Location is the centre's time zone, for "today" (America/Santiago).
	Location *time.Location
	// BodyLimit caps request bodies (default 1 MiB).
	BodyLimit int
	// Streams reads raw stream histories (the event store).
	Streams streamReader
	// Live is the realtime hub mounted at /ws (nil: no live updates).
	Live liveHub
	// Auth logs people in and authenticates requests (auth.Service).
	Auth authService
	// SecureCookies marks the session cookie Secure and sends
	// Strict-Transport-Security on every answer: the hub is behind HTTPS.
	SecureCookies bool
	// TrustedProxies are the reverse proxies (nginx) whose
	// X-Forwarded-For is believed when they are the TCP peer (see
	// clientAddr); nil means none: the peer is the client.
	TrustedProxies []netip.Prefix
	// PasswordParams hashes new passwords; zero means auth.DefaultParams.
	PasswordParams auth.Params
	// WriteWait bounds how long a write waits for the read model to apply
	// it before answering (default 2 s).
	WriteWait time.Duration
	// History rebuilds past informes from the log (projections.History);
	// nil: no /api/informes routes.
	History history
	// Intake takes informe files (intake.Service); nil: no upload routes.
	Intake intakeService
	// Reconciler compares informes with the board (intake.Reconciler);
	// nil: no reconciliation routes.
	Reconciler reconciler
}

// Server is the hub's HTTP application.
type Server struct {
	cfg Config
	log zerolog.Logger
	app *fiber.App
	// lists is GET /api/alerts encoded once per read-model position.
	lists alertLists
}

// New builds the Fiber app with every route.
func New(cfg Config) *Server {
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.WriteWait == 0 {
		cfg.WriteWait = 2 * time.Second
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	s := &Server{cfg: cfg, log: cfg.Log.With().Str("component", "web").Logger()}
	s.app = fiber.New(fiber.Config{
		AppName:               "vigia",
		BodyLimit:             cfg.BodyLimit, // UploadLimit on the upload route: uploadBodyLimit
		ErrorHandler:          errorHandler(s.log),
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		// One write system call per answer up to this size (fasthttp's
		// default, 4 KiB, splits a 10 KB alert list into two). Held per
		// keep-alive connection, released when it upgrades to /ws.
		WriteBufferSize: 16 << 10,
	})
	s.app.Server().HeaderReceived = s.uploadBodyLimit
	s.routes()
	return s
}

// App returns the Fiber app (for Listen, Listener and app.Test).
func (s *Server) App() *fiber.App { return s.app }

// Shutdown stops accepting connections and waits for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

func (s *Server) routes() {
	a := s.app
	a.Use(s.requestContext)
	a.Get("/healthz", s.healthz)
	a.Get("/readyz", s.readyz)

	if s.cfg.Live != nil {
		a.Get("/ws", s.cfg.Live.Handler(s.identifyWS))
	}
	a.Use("/api", apiHeaders)
	a.Post("/api/auth/login", s.login)
	api := a.Group("/api", s.authenticate)
	api.Post("/auth/logout", s.logout)
	api.Get("/auth/me", s.getMe)
	api.Post("/auth/password", s.changeOwnPassword)
	api.Get("/users", s.listUsers)
	api.Post("/users", s.createUser)
	api.Patch("/users/:id", s.editUser)
	api.Get("/tokens", s.listTokens)
	api.Post("/tokens", s.createToken)
	api.Delete("/tokens/:id", s.revokeToken)
	api.Get("/reference", s.reference)

	api.Get("/alerts", s.listAlerts)
	api.Post("/alerts", s.declareAlert)
	api.Get("/alerts/:id", s.getAlert)
	api.Patch("/alerts/:id", s.editAlert)
	api.Post("/alerts/:id/cancel", s.cancelAlert)

	api.Get("/shifts", s.listShifts)
	api.Put("/shifts/:date/:slot", s.putShift)
	api.Delete("/shifts/:date/:slot", s.deleteShift)

	api.Get("/streams/:stream", s.getStream)
	api.Get("/audit", s.getAudit)

	api.Get("/log", s.listLog)
	api.Post("/log", s.addLogEntry)
	api.Get("/log/:id", s.getLogEntry)
	api.Patch("/log/:id", s.correctLogEntry)

	if s.cfg.Intake != nil {
		api.Post("/informes", s.postInforme)
		api.Get("/informes/jobs", s.listInformeJobs)
		api.Get("/informes/jobs/:id", s.getInformeJob)
	}
	if s.cfg.Reconciler != nil {
		api.Get("/informes/:date/reconciliation", s.getReconciliation)
		api.Post("/informes/:date/reconciliation/:item/accept", s.acceptItem)
		api.Post("/informes/:date/reconciliation/:item/dismiss", s.dismissItem)
	}
	if s.cfg.History != nil {
		api.Get("/informes/:date/changes", s.getInformeChanges)
		api.Get("/informes/:date", s.getInforme)
	}

	api.Use(func(c *fiber.Ctx) error { return &errNotFound{what: "la ruta " + c.Path()} })
	s.mountUI()
}

// HeaderClientRequestID echoes the X-Request-Id a client sent, when it is
// well formed (clientRequestIDPattern); it is never stored.
const HeaderClientRequestID = "X-Client-Request-Id"

// clientRequestIDPattern is what a client's X-Request-Id must look like to
// be logged and echoed: short, and nothing a log reader or a header could
// misread.
var clientRequestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestContext gives every request an ID and a logger carrying it. The
// ID is always the server's own (a UUID): it becomes the correlation ID of
// the events the request appends, in the permanent audit trail, so a client
// must not choose it (to forge a link between its writes and someone
// else's, or to fill the trail with text). A client's own X-Request-Id, if
// well formed, is only logged as client_request_id and echoed in
// X-Client-Request-Id, so the client can still find its request in our
// logs; X-Request-Id in the answer is ours.
func (s *Server) requestContext(c *fiber.Ctx) error {
	id := uuid.NewString()
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	if s.cfg.SecureCookies {
		c.Set(fiber.HeaderStrictTransportSecurity, hstsValue)
	}
	lc := s.log.With().Str("request_id", id)
	if cid := c.Get(fiber.HeaderXRequestID); clientRequestIDPattern.MatchString(cid) {
		c.Set(HeaderClientRequestID, cid)
		lc = lc.Str("client_request_id", cid)
	}
	l := lc.Logger()
	c.SetUserContext(l.WithContext(c.UserContext()))
	start := time.Now()
	err := c.Next()
	if err != nil {
		// Let the error handler write the response so the status is known.
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	l.Debug().Str("method", c.Method()).Str("path", c.Path()).Int("status", c.Response().StatusCode()).
		Dur("took", time.Since(start)).Msg("request")
	return nil
}

type localKey int

const (
	localRequestID localKey = iota
	localPrincipal
)

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

func (s *Server) meta(c *fiber.Ctx) command.Meta {
	return command.Meta{Actor: actor(c), CorrelationID: requestID(c)}
}

// today is the centre's current date.
func (s *Server) today() string {
	return s.cfg.Commands.Now().In(s.cfg.Location).Format(time.DateOnly)
}

// dateParam validates a YYYY-MM-DD date, defaulting to today.
func (s *Server) dateParam(v string) (string, error) {
	if v == "" {
		return s.today(), nil
	}
	if !domain.ValidDate(v) {
		return "", &errBadRequest{detail: "fecha no válida", fields: map[string]string{"date": domain.DateProblem(v)}}
	}
	return v, nil
}

// decodeBody decodes a JSON body strictly: unknown fields and type
// mismatches are the client's mistake (400), named by field.
func decodeBody(c *fiber.Ctx, dst any) error {
	if ct := c.Get(fiber.HeaderContentType); ct != "" && !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return &errBadRequest{detail: "el cuerpo debe ser JSON (Content-Type: application/json)"}
	}
	body := c.Body()
	if len(body) == 0 {
		return &errBadRequest{detail: "falta el cuerpo JSON"}
	}
	// encoding/json would turn invalid UTF-8 and lone surrogate escapes
	// into U+FFFD without a word, and the domain would store the
	// replacement as if the client had written it.
	if !utf8.Valid(body) {
		return &errBadRequest{detail: "el cuerpo no es texto UTF-8 válido"}
	}
	if off := loneSurrogate(body); off >= 0 {
		return &errBadRequest{detail: fmt.Sprintf("escape \\u de un sustituto UTF-16 sin pareja cerca del byte %d", off)}
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return &errBadRequest{detail: "tipo de dato incorrecto", fields: map[string]string{te.Field: "se esperaba " + jsonKind(te.Type.Kind().String())}}
		case errors.As(err, &se):
			return &errBadRequest{detail: fmt.Sprintf("JSON mal formado cerca del byte %d", se.Offset)}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &errBadRequest{detail: "campo desconocido", fields: map[string]string{f: "campo desconocido"}}
		}
		return &errBadRequest{detail: "JSON mal formado"}
	}
	if dec.More() {
		return &errBadRequest{detail: "se esperaba un único objeto JSON"}
	}
	return nil
}

// loneSurrogate returns the offset of the first \uD800–\uDFFF escape in a
// JSON string of body that is not a high surrogate followed by a low one,
// or -1. It only scans: the decoder still judges the syntax.
func loneSurrogate(body []byte) int {
	inString := false
	for i := 0; i < len(body); i++ {
		b := body[i]
		if !inString {
			inString = b == '"'
			continue
		}
		switch b {
		case '"':
			inString = false
		case '\\':
			if i+1 < len(body) && body[i+1] == 'u' {
				r, ok := hex4(body, i+2)
				switch {
				case !ok:
				case r >= 0xd800 && r < 0xdc00:
					low, ok := rune(0), false
					if i+7 < len(body) && body[i+6] == '\\' && body[i+7] == 'u' {
						low, ok = hex4(body, i+8)
					}
					if !ok || low < 0xdc00 || low > 0xdfff {
						return i
					}
					i += 6 // the low half is checked here, skip it
				case r >= 0xdc00 && r <= 0xdfff:
					return i
				}
			}
			i++ // the escaped character
		}
	}
	return -1
}

// hex4 reads four hexadecimal digits at body[at:].
func hex4(body []byte, at int) (rune, bool) {
	if at+4 > len(body) {
		return 0, false
	}
	var r rune
	for _, c := range body[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "texto"
	case "bool":
		return "verdadero o falso"
	case "slice":
		return "una lista"
	case "struct", "map":
		return "un objeto"
	}
	return "un número"
}

// ifMatch parses If-Match: "n" (or W/"n"), the version the client read.
// A missing header is a 428.
func ifMatch(c *fiber.Ctx) (uint64, error) {
	h := strings.TrimSpace(c.Get(fiber.HeaderIfMatch))
	if h == "" {
		return 0, errPreconditionRequired
	}
	v := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, &errBadRequest{detail: `If-Match debe ser la versión entre comillas, p. ej. "3"`}
	}
	return uint64(n), nil
}

// etag is the ETag of an item at version v.
func etag(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }

// execute runs a command and, when it changed something, waits (bounded)
// for the read model to apply it. A stale edit comes back from pre as a
// *command.StaleError, which errorHandler renders as a 412.
func (s *Server) execute(c *fiber.Ctx, stream string, pre command.Precondition, cmd domain.Command) (command.Result, error) {
	res, err := s.cfg.Commands.Execute(c.UserContext(), stream, s.meta(c), pre, command.Command(cmd))
	if err != nil {
		return res, err
	}
	s.waitApplied(c, res)
	return res, nil
}

// waitApplied waits, bounded by WriteWait, until the read model has
// applied what res appended, so that a read after this answer sees it.
func (s *Server) waitApplied(c *fiber.Ctx, res command.Result) {
	if len(res.Events) == 0 || s.cfg.Projector == nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.WriteWait)
	defer cancel()
	if err := s.cfg.Projector.WaitFor(ctx, res.Position); err != nil {
		zerolog.Ctx(c.UserContext()).Warn().Err(err).Str("position", res.Position.String()).Msg("read model behind the write")
	}
}
