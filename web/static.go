package web

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/web/ui"
)

// Cache policies. Pages are revalidated on every load (their ETag makes
// that a 304), so a new release reaches a browser on its next load; assets
// may be reused for a few minutes without asking, which is as stale as a
// module can be after a deploy.
const (
	pageCacheControl  = "no-cache"
	assetCacheControl = "public, max-age=300"
)

// uiContentSecurityPolicy is what the UI pages may load: only their own
// origin, no inline script or style, no framing. connect-src 'self' covers
// fetch and the same-origin WebSocket.
const uiContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// uiFile is one embedded UI file, read once when the server is built.
type uiFile struct {
	body        []byte
	contentType string
	etag        string
}

// uiFiles are the UI's files by path ("index.html", "assets/app.js").
type uiFiles map[string]uiFile

// loadUI reads every file of fsys into memory: the UI is a few tens of
// kilobytes, and serving from memory needs no file handling per request.
func loadUI(fsys fs.FS) (uiFiles, error) {
	files := uiFiles{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		files[p] = uiFile{
			body:        body,
			contentType: contentType(p),
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load ui: %w", err)
	}
	return files, nil
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// appPages are the addresses of the operators' app: one page (index.html)
// whose module shows the board, the audit, one stream's history, the
// línea de tiempo or the informes by its path, so each can be bookmarked, shared and
// reloaded.
var appPages = []string{"/", "/auditoria", "/historial", "/linea-de-tiempo", "/informes"}

// mountUI serves the embedded browser UI: the operators' app at appPages,
// the wall display at /display and their files under /assets/. It runs
// after every other route, so it shadows none of /api, /ws, /healthz or
// /readyz; any other GET is a 404 problem from the app's error handler.
func (s *Server) mountUI() {
	files, err := loadUI(ui.FS())
	if err != nil {
		// The files are compiled into the binary: this is a build defect.
		panic(err)
	}
	app := files.page("index.html")
	for _, p := range appPages {
		s.app.Get(p, app)
	}
	s.app.Get("/display", files.page("display.html"))
	s.app.Get("/assets/*", func(c *fiber.Ctx) error {
		name := "assets/" + c.Params("*")
		f, ok := files[name]
		if !ok {
			return &errNotFound{what: "el archivo " + c.Path()}
		}
		c.Set(fiber.HeaderCacheControl, assetCacheControl)
		return f.send(c)
	})
	s.app.Use(func(c *fiber.Ctx) error {
		if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
			return &errNotFound{what: "la página " + c.Path()}
		}
		// Other methods keep Fiber's answer: 405 where another method has
		// the route, else 404.
		return c.Next()
	})
}

// page serves one HTML page with the headers every UI page carries.
func (files uiFiles) page(name string) fiber.Handler {
	f, ok := files[name]
	if !ok {
		panic("ui: missing " + name)
	}
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, pageCacheControl)
		c.Set(fiber.HeaderContentSecurityPolicy, uiContentSecurityPolicy)
		// The display's address carries its token: never send it onwards.
		c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
		c.Set(fiber.HeaderXFrameOptions, "DENY")
		return f.send(c)
	}
}

// send writes the file, or 304 when the client already has this version.
func (f uiFile) send(c *fiber.Ctx) error {
	c.Set(fiber.HeaderETag, f.etag)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && etagMatches(inm, f.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	return c.Send(f.body)
}

// etagMatches reports whether an If-None-Match list names tag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatches(header, tag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}
