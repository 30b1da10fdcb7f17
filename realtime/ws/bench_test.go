package ws_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"

	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/realtime/ws"
)

// BenchmarkFanOut publishes through the memory broker to 1,000 real
// WebSocket clients over loopback and waits until every client has read each
// batch: ns/op is per message fanned out to all of them.
func BenchmarkFanOut(b *testing.B) {
	const clients = 1000
	for _, batch := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d/batch=%d", clients, batch), func(b *testing.B) {
			s := startServer(b, serverOptions{quiet: true})
			var got, target atomic.Int64
			done := make(chan struct{}, 1)
			for range clients {
				c := dial(b, s, "")
				c.expect(ws.TypeHello, "")
				_ = c.conn.SetReadDeadline(time.Time{}) // expect set one; a long run must outlive it
				go func() {
					for {
						if _, _, err := c.conn.ReadMessage(); err != nil {
							return
						}
						if got.Add(1) == target.Load() {
							done <- struct{}{}
						}
					}
				}()
			}
			data := json.RawMessage(`{"id":"0193a1e2-7c1d-7000-8000-000000000000","hazard":"incendio_forestal","level":"roja","status":"vigente","region":false,"provincias":["051"],"comunas":["05101","05109"],"title":"Incendio forestal en Valparaíso","version":3}`)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			sent := 0
			for sent < b.N {
				n := min(batch, b.N-sent)
				target.Store(int64((sent + n) * clients))
				for i := range n {
					m := notice.Message{Type: "alert.updated", Topic: notice.TopicAlerts, Position: pos(sent + i + 1), Data: data}
					if sent+i > 0 {
						m.Prev = pos(sent + i) // chained, as one publisher's notices are
					}
					s.publish(b, m)
				}
				select {
				case <-done:
				case <-time.After(wait):
					b.Fatalf("deliveries: %d of %d within %v; hub %+v", got.Load(), target.Load(), wait, s.hub.Stats())
				}
				sent += n
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(b.N*clients)/b.Elapsed().Seconds(), "deliveries/s")
			// CPU per delivery, both ends (this process is hub and clients):
			// unlike ns/op, it hardly moves when other processes share the
			// machine.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*clients), "cpu-ns/delivery")
			if st := s.hub.Stats(); st.Dropped != 0 {
				b.Fatalf("%d clients dropped", st.Dropped)
			}
		})
	}
}

// BenchmarkIdleConnMemory reports the heap and stack that idle connections
// hold, per connection, on both ends (the client end is in this process too;
// it holds two 1 KiB buffers and no goroutine). It measures once; b.N is not
// used.
func BenchmarkIdleConnMemory(b *testing.B) {
	const n = 500
	s := startServer(b, serverOptions{quiet: true})
	before := memInUse()
	goroutines := runtime.NumGoroutine()
	conns := make([]*fws.Conn, n)
	d := &fws.Dialer{HandshakeTimeout: wait, ReadBufferSize: 1024, WriteBufferSize: 1024}
	for i := range conns {
		c, err := dialConn(s, "", d)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := readMessage(c); err != nil { // the hello
			b.Fatal(err)
		}
		conns[i] = c
	}
	after := memInUse()
	perConn := float64(after-before) / n
	perConnGoroutines := float64(runtime.NumGoroutine()-goroutines) / n
	for b.Loop() {
	}
	b.ReportMetric(perConn, "B/conn")
	b.ReportMetric(perConnGoroutines, "goroutines/conn")
	for _, c := range conns {
		_ = c.Close()
	}
}

func memInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}
