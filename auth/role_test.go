package auth_test

import (
	"errors"
	"testing"

	"github.com/senapred-valparaiso/vigia/auth"
)

func TestRoleCan(t *testing.T) {
	const (
		R = auth.Read
		E = auth.Edit
		U = auth.ManageUsers
		T = auth.ManageTokens
		A = auth.ReadAudit
	)
	cases := []struct {
		role auth.Role
		want map[auth.Permission]bool
	}{
		{auth.Admin, map[auth.Permission]bool{R: true, E: true, U: true, T: true, A: true}},
		{auth.Supervisor, map[auth.Permission]bool{R: true, E: true, T: true, A: true}},
		{auth.Operator, map[auth.Permission]bool{R: true, E: true}},
		{auth.Viewer, map[auth.Permission]bool{R: true}},
		{auth.Display, map[auth.Permission]bool{R: true}},
		{"root", nil},
		{"", nil},
	}
	for _, tc := range cases {
		for _, p := range auth.Permissions() {
			t.Run(string(tc.role)+"/"+p.String(), func(t *testing.T) {
				if got := tc.role.Can(p); got != tc.want[p] {
					t.Errorf("got %v, want %v", got, tc.want[p])
				}
			})
		}
	}
}

func TestRoleCanRefusesNonSinglePermissions(t *testing.T) {
	for _, p := range []auth.Permission{0, auth.Read | auth.Edit, 1 << 7} {
		if auth.Admin.Can(p) {
			t.Errorf("admin can %v: want false", p)
		}
	}
}

func TestParseRole(t *testing.T) {
	cases := []struct {
		in   string
		want auth.Role
		err  bool
	}{
		{"admin", auth.Admin, false},
		{"supervisor", auth.Supervisor, false},
		{"operator", auth.Operator, false},
		{"viewer", auth.Viewer, false},
		{"display", auth.Display, false},
		{" Operator\n", auth.Operator, false},
		{"ADMIN", auth.Admin, false},
		{"", "", true},
		{"root", "", true},
		{"operador", "", true},
		{"admin,viewer", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := auth.ParseRole(tc.in)
			if tc.err != (err != nil) || got != tc.want {
				t.Fatalf("got %q, %v; want %q, error %v", got, err, tc.want, tc.err)
			}
			if err != nil && !errors.Is(err, auth.ErrUnknownRole) {
				t.Errorf("error %v does not match ErrUnknownRole", err)
			}
		})
	}
}

func TestRolesAreValidAndParse(t *testing.T) {
	for _, r := range auth.Roles() {
		if got, err := auth.ParseRole(r.String()); err != nil || got != r {
			t.Errorf("parse %q: got %q, %v", r, got, err)
		}
	}
}

func TestRoleCanGrant(t *testing.T) {
	cases := []struct {
		by    auth.Role
		grant auth.Role
		want  bool
	}{
		{auth.Admin, auth.Admin, true},
		{auth.Admin, auth.Display, true},
		{auth.Supervisor, auth.Admin, false},
		{auth.Supervisor, auth.Supervisor, true},
		{auth.Supervisor, auth.Operator, true},
		{auth.Supervisor, auth.Viewer, true},
		{auth.Supervisor, auth.Display, true},
		{auth.Operator, auth.Viewer, false},
		{auth.Operator, auth.Display, false},
		{auth.Viewer, auth.Display, false},
		{auth.Display, auth.Display, false},
		{auth.Admin, "root", false},
		{"root", auth.Viewer, false},
	}
	for _, tc := range cases {
		t.Run(string(tc.by)+" grants "+string(tc.grant), func(t *testing.T) {
			if got := tc.by.CanGrant(tc.grant); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPrincipalCan(t *testing.T) {
	cases := []struct {
		name string
		p    auth.Principal
		perm auth.Permission
		want bool
	}{
		{"display token reads", auth.Principal{Role: auth.Display, Kind: auth.KindToken}, auth.Read, true},
		{"display token cannot edit", auth.Principal{Role: auth.Display, Kind: auth.KindToken}, auth.Edit, false},
		{"display session cannot read", auth.Principal{Role: auth.Display, Kind: auth.KindSession}, auth.Read, false},
		{"operator session edits", auth.Principal{Role: auth.Operator, Kind: auth.KindSession}, auth.Edit, true},
		{"operator token edits", auth.Principal{Role: auth.Operator, Kind: auth.KindToken}, auth.Edit, true},
		{"viewer session cannot edit", auth.Principal{Role: auth.Viewer, Kind: auth.KindSession}, auth.Edit, false},
		{"admin of unknown kind can nothing", auth.Principal{Role: auth.Admin}, auth.Read, false},
		{"zero principal can nothing", auth.Principal{}, auth.Read, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Can(tc.perm); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
