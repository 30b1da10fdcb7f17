package projections_test

import (
	"slices"
	"testing"

	"github.com/senapred-valparaiso/vigia/projections"
)

func TestNoticeScope(t *testing.T) {
	tests := []struct {
		name        string
		change      projections.Change
		wantRegion  bool
		wantComunas []string
	}{
		{"not moved", projections.Change{Comunas: []string{"05101"}}, false, []string{"05101"}},
		{"moved: old and new comunas", projections.Change{Comunas: []string{"05109", "05801"}, PrevComunas: []string{"05101", "05109"}}, false, []string{"05101", "05109", "05801"}},
		{"narrowed from the region: every display", projections.Change{Comunas: []string{"05101"}, PrevRegion: true}, true, []string{"05101"}},
		{"widened to the region", projections.Change{Region: true, Comunas: []string{"05101"}, PrevComunas: []string{"05101"}}, true, []string{"05101"}},
		{"now concerns no comuna in particular: every display", projections.Change{PrevComunas: []string{"05101"}}, false, nil},
		{"not territorial", projections.Change{}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok, err := tt.change.Notice()
			if !ok || err != nil {
				t.Fatalf("got ok %v err %v, want a notice", ok, err)
			}
			if m.Region != tt.wantRegion || !slices.Equal(m.Comunas, tt.wantComunas) {
				t.Errorf("got region %v comunas %v, want %v %v", m.Region, m.Comunas, tt.wantRegion, tt.wantComunas)
			}
		})
	}
}

func TestUserChangesAreNotPublished(t *testing.T) {
	c := projections.Change{Topic: projections.TopicUsers, Type: "user.updated", Data: projections.UserView{Username: "ana"}}
	if _, ok, err := c.Notice(); ok || err != nil {
		t.Fatalf("got ok %v err %v, want no notice", ok, err)
	}
}
