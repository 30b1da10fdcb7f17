package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
)

// TestAuditPagesPastOneThousandOnPostgres: issue 14 items 6 and 15 end to
// end, on a hub with the Postgres read model. Six clients POST 420
// novedades each to one day's log at once, and none is answered 409; then
// the day's 2,520 audit records page as 1000, 1000, 520 with ?limit=1000
// (a cursor on each full page, none on the last, no record twice), and
// the CSV export streams all 2,520.
func TestAuditPagesPastOneThousandOnPostgres(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	m := rmStartHub(t, t.TempDir(), func(c *Config) { c.ReadModel = dsn })
	t.Cleanup(func() { _ = rmClose(m) })
	const writers, each, day = 6, 420, "2026-01-15"
	var (
		wg     sync.WaitGroup
		failed atomic.Int64
	)
	for w := range writers {
		c := newClient(t, m.Addr(), testAdmin, testPassword)
		wg.Go(func() {
			for i := range each {
				body := fmt.Sprintf(`{"text":"Novedad %d.%d","date":%q,"category":"novedad"}`, w, i, day)
				if code, _, err := c.call("POST", "/api/log", nil, body, nil); err != nil || code != 201 {
					if failed.Add(1) <= 3 {
						t.Errorf("writer %d, novedad %d: %d %v", w, i, code, err)
					}
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d novedades failed", n, writers*each)
	}

	const n = writers * each
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	stream := url.QueryEscape("log-" + day)
	var rows [][]string
	rmEventually(t, 60*time.Second, "the CSV export to hold every record", func() bool {
		code, body := rmRaw(t, c, "/api/audit?format=csv&stream="+stream)
		if code != 200 {
			t.Fatalf("csv: %d %s", code, body)
		}
		var err error
		if rows, err = csv.NewReader(strings.NewReader(body)).ReadAll(); err != nil {
			t.Fatal(err)
		}
		return len(rows) == n+1
	})
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		if seen[row[0]] {
			t.Fatalf("csv: %s twice", row[0])
		}
		seen[row[0]] = true
	}

	seen = map[string]bool{}
	var sizes []int
	for cursor := ""; len(sizes) < 5; {
		path := "/api/audit?limit=1000&stream=" + stream
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		code, body := rmRaw(t, c, path)
		var page struct {
			Entries []struct {
				Position string `json:"position"`
			} `json:"entries"`
			Next string `json:"next"`
		}
		if err := json.Unmarshal([]byte(body), &page); code != 200 || err != nil {
			t.Fatalf("%s: %d %v %s", path, code, err, body)
		}
		sizes = append(sizes, len(page.Entries))
		for _, e := range page.Entries {
			if seen[e.Position] {
				t.Fatalf("%s twice", e.Position)
			}
			seen[e.Position] = true
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(sizes) != "[1000 1000 520]" || len(seen) != n {
		t.Fatalf("got pages %v and %d records, want [1000 1000 520] and %d", sizes, len(seen), n)
	}
}
