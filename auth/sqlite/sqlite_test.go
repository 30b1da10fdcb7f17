package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/auth/sessiontest"
	"github.com/senapred-valparaiso/vigia/auth/sqlite"
)

// open opens a sessions file, closed at cleanup.
func open(tb testing.TB, path string, now func() time.Time) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path, now)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestSessionStore(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T, now func() time.Time) auth.SessionStore {
		return open(t, filepath.Join(t.TempDir(), "sessions.db"), now).Sessions()
	})
}

func TestTokenStore(t *testing.T) {
	sessiontest.RunTokenStore(t, func(t *testing.T, now func() time.Time) auth.TokenStore {
		return open(t, filepath.Join(t.TempDir(), "sessions.db"), now).Tokens()
	})
}

func TestSessionsAndTokensSurviveReopen(t *testing.T) {
	ctx := context.Background()
	c := sessiontest.NewClock()
	path := filepath.Join(t.TempDir(), "data", "sessions.db")

	db, err := sqlite.Open(ctx, path, c.Now)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	sess, _ := auth.SessionPolicy{}.NewSession("u1", "ana", auth.Supervisor, c.Now())
	if err := db.Sessions().Create(ctx, sess); err != nil {
		t.Fatalf("create session: %v", err)
	}
	touched := c.Advance(time.Hour)
	if err := db.Sessions().Touch(ctx, sess.ID, touched); err != nil {
		t.Fatalf("touch: %v", err)
	}
	tok, plain, err := db.Tokens().Create(ctx, auth.Token{Name: "muro", Role: auth.Display, CreatedBy: "u1"})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	db = open(t, path, c.Now)
	got, err := db.Sessions().Get(ctx, sess.ID)
	if err != nil {
		t.Fatalf("get session after reopen: %v", err)
	}
	if got.UserID != "u1" || got.Role != auth.Supervisor || !got.LastSeen.Equal(touched) || !got.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Errorf("session after reopen: got %+v", got)
	}
	gotTok, err := db.Tokens().Lookup(ctx, plain)
	if err != nil {
		t.Fatalf("lookup token after reopen: %v", err)
	}
	if gotTok.ID != tok.ID || gotTok.Role != auth.Display {
		t.Errorf("token after reopen: got %+v, want %+v", gotTok, tok)
	}
	// Expiry keeps working across the restart.
	c.Advance(auth.DefaultIdleTimeout)
	if _, err := db.Sessions().Get(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("get after idle: got %v, want ErrNoSession", err)
	}
}

func TestNoPlaintextSecretsAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, filepath.Join(dir, "sessions.db"), nil)
	sess, _ := auth.SessionPolicy{}.NewSession("u1", "ana", auth.Admin, time.Now())
	if err := db.Sessions().Create(ctx, sess); err != nil {
		t.Fatal(err)
	}
	_, plain, err := db.Tokens().Create(ctx, auth.Token{Name: "script", Role: auth.Operator, CreatedBy: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "sessions.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{sess.ID, plain, plain[len(auth.TokenPrefix):]} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds a plaintext secret", filepath.Base(f))
			}
		}
		if info, err := os.Stat(f); err == nil && info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want private", filepath.Base(f), info.Mode().Perm())
		}
	}
}

func TestPruneDeletesExpiredRows(t *testing.T) {
	ctx := context.Background()
	c := sessiontest.NewClock()
	db := open(t, filepath.Join(t.TempDir(), "sessions.db"), c.Now)
	sess, _ := auth.SessionPolicy{IdleTimeout: time.Hour}.NewSession("u1", "ana", auth.Viewer, c.Now())
	if err := db.Sessions().Create(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Tokens().Create(ctx, auth.Token{Name: "x", Role: auth.Viewer, CreatedBy: "u1", ExpiresAt: c.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Tokens().Create(ctx, auth.Token{Name: "forever", Role: auth.Viewer, CreatedBy: "u1"}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("prune now: got %d, %v; want 0", n, err)
	}
	c.Advance(time.Hour)
	if n, err := db.Prune(ctx); err != nil || n != 2 {
		t.Fatalf("prune after an hour: got %d, %v; want 2", n, err)
	}
}

func TestOpenRefusesNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", filepath.Join(t.TempDir(), "a?mode=ro")} {
		if db, err := sqlite.Open(context.Background(), p, nil); err == nil {
			db.Close()
			t.Errorf("open %q: want error", p)
		}
	}
}
