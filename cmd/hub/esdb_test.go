package main

import (
	"context"
	"testing"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/eventstore/esdb/esdbtest"
)

// TestEventStoreDB: the hub serves with its events in EventStoreDB (here the
// protocol-level test node, spoken to by the official client over gRPC),
// and a restarted hub rebuilds its read models from them.
func TestEventStoreDB(t *testing.T) {
	node := esdbtest.NewServer(t)
	dir := t.TempDir()
	open := func() *Main {
		m := NewMain()
		m.Config.Addr, m.Config.DataDir, m.Config.EventStore = "127.0.0.1:0", dir, node.ConnString()
		m.Config.AdminUser, m.Config.AdminPassword = testAdmin, testPassword
		m.PasswordParams = auth.TestParams
		if err := m.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := open()
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	var created struct {
		ID string `json:"id"`
	}
	if code, _, err := c.call("POST", "/api/alerts", nil, `{"hazard":"marejadas","level":"amarilla","title":"Marejadas","provincias":["056"]}`, &created); err != nil || code != 201 {
		t.Fatalf("declare: %d %v", code, err)
	}
	if code, _, err := c.call("PATCH", "/api/alerts/"+created.ID, map[string]string{"If-Match": `"0"`}, `{"level":"roja"}`, nil); err != nil || code != 200 {
		t.Fatalf("patch: %d %v", code, err)
	}
	if code, _, _ := c.call("PATCH", "/api/alerts/"+created.ID, map[string]string{"If-Match": `"0"`}, `{"level":"amarilla"}`, nil); code != 412 {
		t.Fatalf("stale patch on EventStoreDB: got %d, want 412", code)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = open()
	defer m.Close()
	c = newClient(t, m.Addr(), testAdmin, testPassword)
	var a struct {
		Level   string `json:"level"`
		Version int    `json:"version"`
	}
	if code, _, err := c.call("GET", "/api/alerts/"+created.ID, nil, "", &a); err != nil || code != 200 || a.Level != "roja" || a.Version != 1 {
		t.Fatalf("after restart: %d %v %+v", code, err, a)
	}
	var ready struct {
		Checks map[string]string `json:"checks"`
	}
	if code, _, _ := c.call("GET", "/readyz", nil, "", &ready); code != 200 || ready.Checks["eventstore"] != "ok" {
		t.Fatalf("readyz: %d %+v", code, ready)
	}
}
