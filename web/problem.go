package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/ingest"
	"github.com/senapred-valparaiso/vigia/projections"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Fields maps a request field to what is wrong with it (Spanish).
	Fields map[string]string `json:"fields,omitempty"`
	// Current is the resource as it stands now, on a 412.
	Current any `json:"current,omitempty"`
	// Code names a broken business rule, on a 409.
	Code      string `json:"code,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// errBadRequest is a malformed request (body, query, header).
type errBadRequest struct {
	detail string
	fields map[string]string
}

func (e *errBadRequest) Error() string { return "bad request: " + e.detail }

func badRequest(detail string) error { return &errBadRequest{detail: detail} }

// errPreconditionRequired: a change without If-Match.
var errPreconditionRequired = errors.New("precondition required")

// errNotFound is a missing resource with what was looked for.
type errNotFound struct{ what string }

func (e *errNotFound) Error() string { return e.what + " not found" }

// notFound says what a command did not find: an error matching
// domain.ErrNotFound (a precondition's missing item) becomes a 404 naming
// what; any other error is returned as it is.
func notFound(err error, what string) error {
	if errors.Is(err, domain.ErrNotFound) {
		return &errNotFound{what: what}
	}
	return err
}

// current renders the resource a stale edit was refused on, as a GET of
// it reads: the body of the 412.
func current(st *command.StaleError) any {
	switch item := st.Item.(type) {
	case command.Slot:
		return renderSlot(st.Loaded, item.Date, item.Name)
	case command.LogEntry:
		if lg, ok := st.State.(*domain.Log); ok {
			if e := lg.Entry(item.ID); e != nil {
				return projections.LogEntryView{LogEntry: *e}
			}
		}
		return nil
	}
	switch st.State.(type) {
	case *domain.Alert:
		return renderAlert(st.Loaded)
	case *domain.User:
		return renderUser(st.Loaded)
	}
	return nil
}

// errDependencyDown wraps a failure of a store the request needed (sessions
// in Redis, read models in Postgres): 503, retry later.
var errDependencyDown = errors.New("dependency unavailable")

// errForbidden and errUnauthorized are auth failures.
var (
	errUnauthorized = errors.New("unauthorized")
	errForbidden    = errors.New("forbidden")
)

// tooManyError is a throttled request.
type tooManyError struct{ retryAfter time.Duration }

func (e *tooManyError) Error() string { return "too many requests" }

func problemType(code string) string { return "/problems/" + code }

// errorHandler is the app's one Fiber ErrorHandler: it maps every error a
// handler returns to a problem+json response.
func errorHandler(log zerolog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		p := Problem{Instance: c.Path(), RequestID: requestID(c)}
		var (
			ve   *domain.ValidationError
			re   *domain.RuleError
			br   *errBadRequest
			st   *command.StaleError
			nf   *errNotFound
			tm   *tooManyError
			fe   *fiber.Error
			verr *eventstore.VersionError
			le   *errLogin
			ie   *ingest.Error
		)
		switch {
		case errors.As(err, &ve):
			p.Status, p.Type, p.Title, p.Fields = http.StatusUnprocessableEntity, problemType("validation"), "Datos no válidos", ve.Fields
			p.Detail = "Revise los campos indicados."
		case errors.As(err, &br):
			p.Status, p.Type, p.Title, p.Detail, p.Fields = http.StatusBadRequest, problemType("bad-request"), "Solicitud mal formada", br.detail, br.fields
		case errors.As(err, &st):
			p.Status, p.Type, p.Title, p.Current = http.StatusPreconditionFailed, problemType("stale"), "Otra persona modificó este recurso", current(st)
			p.Detail = "Su versión no es la actual; revise los cambios y vuelva a aplicarlos."
			c.Set(fiber.HeaderETag, etag(st.Actual))
		case errors.Is(err, errPreconditionRequired):
			p.Status, p.Type, p.Title = http.StatusPreconditionRequired, problemType("if-match-required"), "Falta If-Match"
			p.Detail = "Envíe If-Match con la versión (ETag) que leyó."
		case errors.As(err, &nf), errors.Is(err, domain.ErrNotFound):
			p.Status, p.Type, p.Title = http.StatusNotFound, problemType("not-found"), "No encontrado"
			if nf != nil {
				p.Detail = nf.what + " no existe"
			}
		case errors.As(err, &re):
			p.Status, p.Type, p.Title, p.Detail, p.Code = http.StatusConflict, problemType("rule"), "Operación no permitida", re.Message, re.Code
		case errors.As(err, &verr):
			// Gave up after repeated concurrent changes: tell the client to retry.
			p.Status, p.Type, p.Title, p.Detail = http.StatusConflict, problemType("busy"), "Recurso muy disputado", "Hubo demasiados cambios simultáneos; intente de nuevo."
		case errors.As(err, &ie):
			p.Status, p.Type, p.Title, p.Detail = http.StatusUnprocessableEntity, problemType("informe"), ie.Title, ie.Detail
			if errors.Is(ie, ingest.ErrTooLarge) {
				p.Status, p.Type = http.StatusRequestEntityTooLarge, problemType("too-large")
			}
		case errors.As(err, &le):
			p.Status, p.Type, p.Title, p.Detail = http.StatusUnauthorized, problemType("login-failed"), "No se pudo iniciar sesión", le.detail
		case errors.Is(err, errCrossSite):
			p.Status, p.Type, p.Title, p.Detail = http.StatusForbidden, problemType("cross-site"), "Solicitud de otro sitio", "Los cambios deben hacerse desde la propia aplicación."
		case errors.Is(err, errUnauthorized):
			p.Status, p.Type, p.Title, p.Detail = http.StatusUnauthorized, problemType("unauthorized"), "Debe iniciar sesión", "Credenciales ausentes o no válidas."
		case errors.Is(err, errForbidden), errors.Is(err, auth.ErrForbidden):
			p.Status, p.Type, p.Title, p.Detail = http.StatusForbidden, problemType("forbidden"), "Sin permiso", "Su rol no permite esta operación."
		case errors.As(err, &tm):
			p.Status, p.Type, p.Title, p.Detail = http.StatusTooManyRequests, problemType("throttled"), "Demasiados intentos", "Espere antes de volver a intentar."
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(tm.retryAfter.Seconds()+0.999)))
		case errors.Is(err, eventstore.ErrUnavailable), errors.Is(err, errDependencyDown), errors.Is(err, context.DeadlineExceeded):
			p.Status, p.Type, p.Title, p.Detail = http.StatusServiceUnavailable, problemType("unavailable"), "Servicio no disponible", "Un componente del sistema no responde; reintente en unos segundos."
			c.Set(fiber.HeaderRetryAfter, "5")
		case errors.As(err, &fe):
			p.Status, p.Type, p.Title, p.Detail = fe.Code, problemType(slug(fe.Code)), http.StatusText(fe.Code), fe.Message
			if fe.Code >= 500 {
				p.Detail = "Error interno."
			}
		default:
			p.Status, p.Type, p.Title, p.Detail = http.StatusInternalServerError, problemType("internal"), "Error interno", "Ocurrió un error inesperado; quedó registrado."
		}
		ev := zerolog.Ctx(c.UserContext()).Warn()
		if p.Status >= 500 {
			ev = zerolog.Ctx(c.UserContext()).Error()
		}
		ev.Err(err).Int("status", p.Status).Str("path", c.Path()).Msg("request failed")
		c.Status(p.Status)
		c.Set(fiber.HeaderContentType, "application/problem+json; charset=utf-8")
		return c.JSON(p, "application/problem+json; charset=utf-8")
	}
}

func slug(code int) string {
	switch code {
	case http.StatusRequestEntityTooLarge:
		return "too-large"
	case http.StatusMethodNotAllowed:
		return "method-not-allowed"
	case http.StatusNotFound:
		return "not-found"
	case http.StatusUnsupportedMediaType:
		return "unsupported-media-type"
	}
	return strconv.Itoa(code)
}
