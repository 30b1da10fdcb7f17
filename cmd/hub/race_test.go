package main

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// TestLostUpdateRace: 50 concurrent clients read an alert and PATCH it with
// the version they read, over real HTTP on loopback, round after round. For
// every version exactly one PATCH succeeds and every other gets 412; the
// stream holds exactly the accepted edits, in order; the read model equals
// the fold of the stream.
func TestLostUpdateRace(t *testing.T) {
	const clients, rounds = 50, 8
	m := startMain(t, t.TempDir())
	c := newClient(t, m.Addr(), testAdmin, testPassword)

	var created projections.AlertView
	code, _, err := c.call("POST", "/api/alerts", nil, `{"hazard":"incendio_forestal","level":"amarilla","title":"inicial","comunas":["05109"]}`, &created)
	if err != nil || code != 201 {
		t.Fatalf("declare: %d %v", code, err)
	}
	path := "/api/alerts/" + created.ID

	var winners []string // the accepted title of each round, in version order
	for round := 0; round < rounds; round++ {
		var read, patch sync.WaitGroup
		read.Add(clients)
		patch.Add(clients)
		start := make(chan struct{})
		statuses := make([]int, clients)
		seen := make([]string, clients)
		errs := make(chan error, clients)
		for i := 0; i < clients; i++ {
			go func(i int) {
				defer patch.Done()
				_, h, err := c.call("GET", path, nil, "", nil)
				seen[i] = h.Get("ETag")
				read.Done()
				if err != nil {
					errs <- err
					return
				}
				<-start // everyone has read before anyone writes
				title := fmt.Sprintf("r%d-c%d", round, i)
				statuses[i], _, err = c.call("PATCH", path, map[string]string{"If-Match": seen[i]}, `{"title":"`+title+`"}`, nil)
				if err != nil {
					errs <- err
				}
			}(i)
		}
		read.Wait()
		close(start)
		patch.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		ok := 0
		for i, s := range statuses {
			if seen[i] != strconv.Quote(strconv.Itoa(round)) {
				t.Fatalf("round %d: client %d read ETag %s, want %q", round, i, seen[i], strconv.Itoa(round))
			}
			switch s {
			case 200:
				ok++
				winners = append(winners, fmt.Sprintf("r%d-c%d", round, i))
			case 412:
			default:
				t.Fatalf("round %d: client %d got %d, want 200 or 412", round, i, s)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d PATCHes succeeded for version %d, want exactly 1", round, ok, round)
		}
	}

	ctx := context.Background()
	stream := domain.AlertStream(created.ID)
	events, err := m.stores.events.ReadStream(ctx, stream, 0, eventstore.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, e := range events[1:] {
		d, err := domain.Decode(e.Type, e.Schema, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		titles = append(titles, d.(*domain.AlertDetailsUpdated).Title)
	}
	if !reflect.DeepEqual(titles, winners) {
		t.Fatalf("stream holds %v, want exactly the accepted edits %v", titles, winners)
	}

	loaded, err := command.New(m.stores.events).Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	fold := projections.NewAlertView(loaded.State.(*domain.Alert), *loaded.Last)
	var read projections.AlertView
	if code, _, err := c.call("GET", path, nil, "", &read); err != nil || code != 200 {
		t.Fatalf("get: %d %v", code, err)
	}
	if !reflect.DeepEqual(read, fold) {
		t.Fatalf("read model %+v differs from the fold of the stream %+v", read, fold)
	}
	if !strings.HasPrefix(read.Title, fmt.Sprintf("r%d-", rounds-1)) || read.Version != rounds {
		t.Fatalf("got %+v", read)
	}
}
