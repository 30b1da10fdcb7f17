package command_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// declared declares an alert and edits its title until its stream holds n
// events, the way an alert grows through a day of edits.
func declared(b *testing.B, h *command.Handler, id string, n int) {
	b.Helper()
	ctx := b.Context()
	_, err := h.Execute(ctx, domain.AlertStream(id), benchMeta, nil, command.Command(domain.DeclareAlert{
		ID: id, Hazard: domain.Hazards()[0], Level: domain.Levels[0],
		Scope: domain.Scope{Provincias: []string{"058"}, Comunas: []string{"05801"}},
		Title: "Alerta " + id, Description: "Alerta de prueba de carga.", At: time.Now().UTC(),
	}))
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i < n; i++ {
		if _, err := h.Execute(ctx, domain.AlertStream(id), benchMeta, nil, command.Command(retitle(i))); err != nil {
			b.Fatal(err)
		}
	}
}

// benchCaches runs each benchmark without the cache (every Load reads and
// decodes the whole stream) and with it (Load reads only the tail).
var benchCaches = []struct {
	name string
	opts []command.Option
}{
	{"cache=off", []command.Option{command.WithCache(0)}},
	{"cache=on", nil},
}

var benchMeta = command.Meta{Actor: eventstore.Actor{ID: "system:bench", Username: "bench", Role: "system"}}

func retitle(i int) domain.EditAlert {
	t := fmt.Sprintf("Alerta, edición %d", i)
	return domain.EditAlert{Title: &t, At: time.Now().UTC()}
}

// BenchmarkLoad loads an alert whose stream holds 100 events.
func BenchmarkLoad(b *testing.B) {
	for _, c := range benchCaches {
		b.Run(c.name, func(b *testing.B) {
			h := command.New(newStore(b), c.opts...)
			const id = "0193a1e2-7c1d-7000-8000-000000000001"
			declared(b, h, id, 100)
			b.ResetTimer()
			for b.Loop() {
				l, err := h.Load(b.Context(), domain.AlertStream(id))
				if err != nil || l.Revision != 99 {
					b.Fatalf("load: revision %d, %v", l.Revision, err)
				}
			}
		})
	}
}

// BenchmarkEdit is the edits scenario without HTTP: operators each editing
// an alert of their own (80 events long) with If-Match, one durable append
// per command, from GOMAXPROCS×8 goroutines at once.
func BenchmarkEdit(b *testing.B) {
	for _, c := range benchCaches {
		b.Run(c.name, func(b *testing.B) {
			h := command.New(newStore(b), c.opts...)
			const operators = 16
			for i := range operators {
				declared(b, h, fmt.Sprintf("0193a1e2-7c1d-7000-8000-%012d", i), 80)
			}
			var next atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				stream := domain.AlertStream(fmt.Sprintf("0193a1e2-7c1d-7000-8000-%012d", next.Add(1)%operators))
				l, err := h.Load(b.Context(), stream)
				if err != nil {
					b.Error(err)
					return
				}
				version := l.Revision // like an operator: If-Match is the ETag last answered
				for i := 0; pb.Next(); i++ {
					res, err := h.Execute(b.Context(), stream, benchMeta, command.IfVersion(command.Stream{}, version), command.Command(retitle(1000+i)))
					if err != nil {
						b.Error(err)
						return
					}
					version = res.Revision
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "edits/s")
		})
	}
}
