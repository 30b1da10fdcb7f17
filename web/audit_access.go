package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/projections"
)

// userStreams and userEvents name the user aggregate in the audit: its
// streams are user-<uuid>, its events user.created, user.role_changed…
const (
	userStreams = "user-"
	userEvents  = "user."
)

// restrictAudit keeps the user directory admin-only in the audit, as it is
// at /api/users (issue 14 item 9): anyone else who may read the audit (a
// supervisor, or a token) gets 403 for a query about user streams or user
// events, and the user records are left out of every other query, JSON and
// CSV alike.
func restrictAudit(c *fiber.Ctx, q projections.AuditQuery) (projections.AuditQuery, error) {
	p, _ := principal(c)
	if p.Can(auth.ManageUsers) {
		return q, nil
	}
	if strings.HasPrefix(q.Stream, userStreams) || strings.HasPrefix(q.Type, userEvents) {
		return q, auth.ErrForbidden
	}
	q.Hide = userStreams
	return q, nil
}
