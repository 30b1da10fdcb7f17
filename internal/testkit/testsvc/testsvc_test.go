package testsvc

import (
	"context"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestPostgresGivesEachTestItsOwnSchema(t *testing.T) {
	var schema string
	t.Run("inner", func(t *testing.T) {
		dsn := Postgres(t)
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(context.Background())
		if err := conn.QueryRow(t.Context(), `SELECT current_schema()`).Scan(&schema); err != nil {
			t.Fatalf("current_schema: %v", err)
		}
		if !strings.HasPrefix(schema, "t_") {
			t.Fatalf("current schema %q, want a t_… test schema", schema)
		}
		if _, err := conn.Exec(t.Context(), `CREATE TABLE probe (id int)`); err != nil {
			t.Fatalf("create table: %v", err)
		}
		var where string
		if err := conn.QueryRow(t.Context(), `SELECT table_schema FROM information_schema.tables WHERE table_name = 'probe' AND table_schema = current_schema()`).Scan(&where); err != nil || where != schema {
			t.Fatalf("probe table in %q (%v), want %q", where, err, schema)
		}
		if other := Postgres(t); other == dsn {
			t.Error("two calls returned the same DSN")
		}
	})
	if schema == "" {
		return // skipped: Postgres is not reachable
	}
	conn, err := pgx.Connect(t.Context(), Postgres(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil {
		t.Fatalf("look up schema: %v", err)
	}
	if n != 0 {
		t.Errorf("schema %s still exists after its test ended", schema)
	}
}

func TestRedisGivesEachTestItsOwnPrefix(t *testing.T) {
	var addr, prefix string
	t.Run("inner", func(t *testing.T) {
		addr, prefix = Redis(t)
		if reply, err := redisDo(addr, "SET", prefix+"k", "v"); err != nil || reply != "+OK" {
			t.Fatalf("SET: %q, %v", reply, err)
		}
		if _, other := Redis(t); other == prefix {
			t.Error("two calls returned the same prefix")
		}
	})
	if prefix == "" {
		return // skipped: Redis is not reachable
	}
	if reply, err := redisDo(addr, "EXISTS", prefix+"k"); err != nil || reply != ":0" {
		t.Errorf("EXISTS %sk after the test: %q, %v; want :0", prefix, reply, err)
	}
}

func TestUnreachableServiceSkipsLoudly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	closed := ln.Addr().String() // nothing listens there once closed
	ln.Close()
	t.Setenv("HUB_INTEGRATION", "")
	t.Setenv("HUB_TEST_POSTGRES", "postgres://postgres@"+closed+"/test?sslmode=disable")
	t.Setenv("HUB_TEST_REDIS", closed)
	for name, call := range map[string]func(t *testing.T){
		"postgres": func(t *testing.T) { Postgres(t) },
		"redis":    func(t *testing.T) { Redis(t) },
	} {
		for round := range 2 { // the second round answers from the cache
			var skipped bool
			t.Run(name, func(t *testing.T) {
				defer func() { skipped = t.Skipped() }()
				call(t)
			})
			if !skipped {
				t.Errorf("%s round %d: not skipped with the service unreachable", name, round)
			}
		}
	}
}

func TestWithSearchPath(t *testing.T) {
	cases := []struct{ dsn, want string }{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?options=-csearch_path%3Ds1&sslmode=disable"},
		{"postgres://u@h/db?options=-cstatement_timeout%3D5s", "postgres://u@h/db?options=-cstatement_timeout%3D5s+-csearch_path%3Ds1"},
		{"host=h user=u dbname=db", "host=h user=u dbname=db options='-csearch_path=s1'"},
	}
	for _, c := range cases {
		got, err := withSearchPath(c.dsn, "s1")
		if err != nil || got != c.want {
			t.Errorf("withSearchPath(%q) = %q, %v; want %q", c.dsn, got, err, c.want)
		}
		if _, err := pgx.ParseConfig(got); err != nil {
			t.Errorf("pgx cannot parse %q: %v", got, err)
		}
	}
}

func TestRedactHidesPasswords(t *testing.T) {
	for _, dsn := range []string{"postgres://u:s3cret@h/db", "host=h password=s3cret"} {
		if got := redact(dsn); strings.Contains(got, "s3cret") {
			t.Errorf("redact(%q) = %q", dsn, got)
		}
	}
}

func TestUniqueNameIsAValidIdentifierWithinItsLimit(t *testing.T) {
	valid := regexp.MustCompile(`^t_[a-z0-9_]+$`)
	t.Run(strings.Repeat("A very long name; with punctuation ", 5), func(t *testing.T) {
		a, b := uniqueName(t, "t_", "_", 63), uniqueName(t, "t_", "_", 63)
		for _, n := range []string{a, b} {
			if len(n) > 63 || !valid.MatchString(n) {
				t.Errorf("name %q: want at most 63 bytes of [a-z0-9_]", n)
			}
		}
		if a == b {
			t.Errorf("two names are both %q", a)
		}
	})
}
