package web

import (
	"context"
	"errors"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/ingest"
	"github.com/senapred-valparaiso/vigia/intake"
)

// docxType is the content type of a .docx sent as the raw body.
const docxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

// UploadLimit is the body limit of POST /api/informes: the largest informe
// accepted plus room for the multipart envelope. Every other route keeps
// Config.BodyLimit.
const UploadLimit = ingest.MaxFileSize + 64<<10

// intakeService is the informe intake (intake.Service).
type intakeService interface {
	Submit(ctx context.Context, u intake.Upload) (intake.Job, bool, error)
	Job(ctx context.Context, id int64) (intake.Job, error)
	Jobs(ctx context.Context, limit int) ([]intake.Job, error)
}

// uploadBodyLimit raises the body limit for the upload route only, as soon
// as the request's headers are read: every other route keeps
// Config.BodyLimit, which fasthttp enforces from Content-Length before
// reading the body.
func (s *Server) uploadBodyLimit(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	path, _, _ := strings.Cut(string(h.RequestURI()), "?")
	if s.cfg.Intake != nil && string(h.Method()) == fiber.MethodPost && strings.TrimSuffix(path, "/") == "/api/informes" {
		return fasthttp.RequestConfig{MaxRequestBodySize: UploadLimit}
	}
	return fasthttp.RequestConfig{}
}

type jobBody struct {
	Job       intake.Job `json:"job"`
	Duplicate bool       `json:"duplicate,omitempty"`
}

// postInforme takes an informe file: multipart/form-data field "file", or
// the raw .docx body with its name in ?filename=. It answers at once: 202
// with the queued job, or 200 with the first job when the same file was
// sent before.
func (s *Server) postInforme(c *fiber.Ctx) error {
	if err := s.require(c, auth.Edit); err != nil {
		return err
	}
	name, data, err := uploadedFile(c)
	if err != nil {
		return err
	}
	job, dup, err := s.cfg.Intake.Submit(c.UserContext(), intake.Upload{
		Filename: name, Data: data, Source: domain.SourceUpload,
		By: actor(c),
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/api/informes/jobs/"+strconv.FormatInt(job.ID, 10))
	if dup {
		return c.JSON(jobBody{Job: job, Duplicate: true})
	}
	return c.Status(fiber.StatusAccepted).JSON(jobBody{Job: job})
}

// uploadedFile reads the file of an upload in either form.
func uploadedFile(c *fiber.Ctx) (name string, data []byte, err error) {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	switch mt {
	case fiber.MIMEMultipartForm:
		fh, err := c.FormFile("file")
		if err != nil {
			return "", nil, &errBadRequest{detail: "falta el archivo", fields: map[string]string{"file": "adjunte el informe (.docx) en el campo file"}}
		}
		if fh.Size > ingest.MaxFileSize {
			return "", nil, tooLarge(fh.Size)
		}
		f, err := fh.Open()
		if err != nil {
			return "", nil, &errBadRequest{detail: "no se pudo leer el archivo adjunto"}
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, ingest.MaxFileSize+1))
		if err != nil {
			return "", nil, &errBadRequest{detail: "no se pudo leer el archivo adjunto"}
		}
		if len(data) > ingest.MaxFileSize {
			return "", nil, tooLarge(int64(len(data)))
		}
		return fh.Filename, data, nil
	case docxType, "application/octet-stream":
		name := c.Query("filename")
		if strings.TrimSpace(name) == "" {
			return "", nil, &errBadRequest{detail: "falta el nombre del archivo", fields: map[string]string{"filename": "indique ?filename=<nombre>.docx"}}
		}
		body := c.Body()
		if len(body) == 0 {
			return "", nil, &errBadRequest{detail: "el cuerpo está vacío", fields: map[string]string{"file": "envíe el informe (.docx) como cuerpo"}}
		}
		if len(body) > ingest.MaxFileSize {
			return "", nil, tooLarge(int64(len(body)))
		}
		return name, append([]byte(nil), body...), nil
	}
	return "", nil, fiber.NewError(fiber.StatusUnsupportedMediaType,
		"Envíe el informe como multipart/form-data (campo file) o como "+docxType+" con ?filename=.")
}

func tooLarge(size int64) error {
	return &ingest.Error{Kind: ingest.ErrTooLarge, Title: "El archivo es demasiado grande",
		Detail: "El máximo aceptado es " + strconv.Itoa(ingest.MaxFileSize>>20) + " MiB (" + strconv.FormatInt(size>>20, 10) + " MiB recibidos)."}
}

// getInformeJob answers one parse job.
func (s *Server) getInformeJob(c *fiber.Ctx) error {
	if err := s.require(c, auth.Read); err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return &errNotFound{what: "el trabajo " + c.Params("id")}
	}
	job, err := s.cfg.Intake.Job(c.UserContext(), id)
	if errors.Is(err, intake.ErrNotFound) {
		return &errNotFound{what: "el trabajo " + c.Params("id")}
	}
	if err != nil {
		return err
	}
	return c.JSON(jobBody{Job: job})
}

// listInformeJobs answers the newest parse jobs (?limit=, default 50, at
// most 200), newest first.
func (s *Server) listInformeJobs(c *fiber.Ctx) error {
	if err := s.require(c, auth.Read); err != nil {
		return err
	}
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return &errBadRequest{detail: "limit no válido", fields: map[string]string{"limit": "un número entre 1 y 200"}}
		}
		limit = n
	}
	jobs, err := s.cfg.Intake.Jobs(c.UserContext(), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"jobs": jobs})
}
