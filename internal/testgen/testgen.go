// Package testgen generates random domain data for property tests, so
// every random workload draws comunas and scopes the same way.
package testgen

import "github.com/senapred-valparaiso/vigia/domain"

// Comuna picks a comuna code of the region; pick(n) returns 0..n-1.
func Comuna(pick func(int) int) string {
	ps := domain.Provincias()
	p := ps[pick(len(ps))]
	return p.Comunas[pick(len(p.Comunas))].Code
}

// Scope picks a scope: the whole region, one provincia, or two comunas.
func Scope(pick func(int) int) domain.Scope {
	switch pick(3) {
	case 0:
		return domain.Scope{Region: true}
	case 1:
		ps := domain.Provincias()
		return domain.Scope{Provincias: []string{ps[pick(len(ps))].Code}}
	}
	return domain.Scope{Comunas: []string{Comuna(pick), Comuna(pick)}}
}
