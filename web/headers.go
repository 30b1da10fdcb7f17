package web

import "github.com/gofiber/fiber/v2"

// hstsValue is sent when the hub is behind HTTPS (Config.SecureCookies):
// one year, no includeSubDomains (the hub does not own its domain's other
// hosts) and no preload (that is the operator's decision, made once for the
// whole domain).
const hstsValue = "max-age=31536000"

// apiHeaders marks every /api/ answer, errors included, as not to be kept
// by any cache (they carry names, roles, audit trails and tokens: a shared
// computer's disk cache or a proxy must not hold them) and as not to be
// sniffed into another content type.
//
// no-store does not take away the conditional GET: a client that keeps an
// ETag itself and sends If-None-Match still gets a 304 (GET /api/alerts,
// GET /api/alerts/{id}). The browser UI never relied on the browser's HTTP
// cache for the API: api.js fetches with cache: 'no-store'.
func apiHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Next()
}
