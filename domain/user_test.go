package domain

import (
	"errors"
	"testing"
)

func TestUserLifecycle(t *testing.T) {
	u := &User{}
	apply := func(c Command) error {
		evs, err := u.Decide(c)
		for _, e := range evs {
			u.Apply(e)
		}
		return err
	}
	if err := apply(CreateUser{ID: "u1", Username: " Ana.Soto ", Role: "operator", PasswordHash: "h", At: t0}); err != nil {
		t.Fatal(err)
	}
	if u.Username != "ana.soto" || u.DisplayName != "ana.soto" {
		t.Fatalf("got %+v", u)
	}
	tests := []struct {
		name  string
		cmd   Command
		field string
		rule  string
	}{
		{name: "create twice", cmd: CreateUser{ID: "u1", Username: "ana", Role: "operator", PasswordHash: "h"}, rule: "user_exists"},
		{name: "unknown role", cmd: ChangeUserRole{Role: "root"}, field: "role"},
		{name: "empty password hash", cmd: ChangeUserPassword{}, field: "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := u.Decide(tt.cmd)
			if tt.field != "" && fields(err)[tt.field] == "" {
				t.Fatalf("got %v, want a %s field error", err, tt.field)
			}
			var re *RuleError
			if tt.rule != "" && (!errors.As(err, &re) || re.Code != tt.rule) {
				t.Fatalf("got %v, want rule %s", err, tt.rule)
			}
		})
	}
	if err := apply(ChangeUserRole{Role: "supervisor"}); err != nil || u.Role != "supervisor" {
		t.Fatalf("got %v %s", err, u.Role)
	}
	if evs, _ := u.Decide(ChangeUserRole{Role: "supervisor"}); len(evs) != 0 {
		t.Fatal("the same role again must change nothing")
	}
	if err := apply(DisableUser{Reason: "traslado"}); err != nil || !u.Disabled {
		t.Fatalf("got %v %v", err, u.Disabled)
	}
	if err := apply(ChangeUserPassword{PasswordHash: "h2"}); !errors.Is(err, ErrRule) {
		t.Fatalf("got %v, want a disabled user to refuse changes", err)
	}
	if _, err := (&User{}).Decide(CreateUser{ID: "u2", Username: "A", Role: "viewer", PasswordHash: "h"}); fields(err)["username"] == "" {
		t.Fatalf("got %v, want a username error", err)
	}
}

func TestInformeReceived(t *testing.T) {
	i := &Informe{}
	evs, err := i.Decide(ReceiveInforme{Header: InformeHeader{Date: "2026-01-15", Title: "Informe diario", Source: "upload"}, At: t0})
	if err != nil {
		t.Fatal(err)
	}
	i.Apply(evs[0])
	if i.Header == nil || i.Header.Title != "Informe diario" || i.Versions != 1 {
		t.Fatalf("got %+v", i)
	}
	if _, err := i.Decide(ReceiveInforme{Header: InformeHeader{Date: "ayer"}}); fields(err)["date"] == "" || fields(err)["title"] == "" {
		t.Fatalf("got %v", err)
	}
}
