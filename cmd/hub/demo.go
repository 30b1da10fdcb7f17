package main

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// seedDemo fills an empty store with a realistic day: alerts on real
// Valparaíso comunas, today's roster and a few novedades. A store that
// already holds events is left alone, so restarting never duplicates them.
func seedDemo(ctx context.Context, cmds *command.Handler, st *stores, loc *time.Location, params auth.Params, log zerolog.Logger, addr string) error {
	meta := systemMeta("demo")
	for _, u := range demoUsers {
		if _, err := ensureUser(ctx, cmds, meta, params, u.username, u.display, u.role, u.password); err != nil {
			return err
		}
	}
	if err := demoDisplayToken(ctx, st, log, addr); err != nil {
		return err
	}
	existing, err := st.events.ReadAll(ctx, eventstore.Position{}, eventstore.Filter{StreamPrefixes: []string{domain.AlertPrefix}}, 1)
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		return nil
	}
	now := cmds.Now()
	today := now.In(loc).Format(time.DateOnly)
	ago := func(h float64) time.Time { return now.Add(-time.Duration(h * float64(time.Hour))) }
	run := func(stream string, c domain.Command) error {
		_, err := cmds.Execute(ctx, stream, meta, nil, command.Command(c))
		if err != nil {
			return fmt.Errorf("%s: %w", stream, err)
		}
		return nil
	}

	alerts := []domain.DeclareAlert{
		{Hazard: domain.HazardIncendioForestal, Level: domain.LevelRoja,
			Scope: domain.Scope{Comunas: []string{"05109", "05801", "05804"}},
			Title: "Alerta Roja por incendio forestal en Viña del Mar, Quilpué y Villa Alemana",
			Description: "Incendio forestal de rápida propagación en sector Los Almendros; afecta a viviendas de la interfaz urbano-forestal. " +
				"Se mantiene hasta que las condiciones así lo ameriten.",
			Resolution: "Res. Ex. N° 2411", At: ago(5)},
		{Hazard: domain.HazardMarejadas, Level: domain.LevelTempranaPreventiva,
			Scope: domain.Scope{Provincias: []string{"051", "054", "056"}},
			Title: "Alerta Temprana Preventiva por marejadas en el litoral regional",
			Description: "Aviso especial del SHOA por marejadas anormales desde el oeste y suroeste. " +
				"Se recomienda no acercarse al borde costero.", At: ago(30)},
		{Hazard: domain.HazardCalorExtremo, Level: domain.LevelAmarilla,
			Scope:       domain.Scope{Provincias: []string{"053", "057"}, Comunas: []string{"05501"}},
			Title:       "Alerta Amarilla por calor extremo en valles interiores",
			Description: "Temperaturas máximas de 34 a 36 °C en Los Andes, San Felipe de Aconcagua y Quillota.", At: ago(20)},
		{Hazard: domain.HazardSistemaFrontal, Level: domain.LevelTempranaPreventiva,
			Scope:       domain.Scope{Region: true},
			Title:       "Alerta Temprana Preventiva por sistema frontal",
			Description: "Precipitaciones normales a moderadas y viento en sectores altos.", At: ago(72)},
	}
	var ids []string
	for _, a := range alerts {
		a.ID = uuid.NewString()
		ids = append(ids, a.ID)
		if err := run(domain.AlertStream(a.ID), a); err != nil {
			return err
		}
	}
	level := domain.LevelAmarilla
	reason := "Se cancela la Alerta Temprana Preventiva y se declara Alerta Amarilla por aumento de la altura de ola"
	title := "Alerta Amarilla por marejadas en el litoral regional"
	if err := run(domain.AlertStream(ids[1]), domain.EditAlert{Level: &level, Title: &title, Reason: reason, At: ago(3)}); err != nil {
		return err
	}
	if err := run(domain.AlertStream(ids[3]), domain.CancelAlert{Reason: "Condiciones meteorológicas normalizadas", At: ago(24)}); err != nil {
		return err
	}

	shifts := []domain.AssignShift{
		{Slot: "dia", Start: "08:00", End: "20:00", Lead: "Carolina Muñoz", Operators: []string{"Diego Rojas", "Valentina Soto"}},
		{Slot: "noche", Start: "20:00", End: "08:00", Lead: "Felipe Contreras", Operators: []string{"Javiera Pérez"}},
		{Slot: "enlace-regional", Start: "09:00", End: "18:00", Lead: "Rodrigo Fuentes", Notes: "Enlace con la Delegación Presidencial"},
	}
	for _, s := range shifts {
		s.Date, s.At = today, ago(6)
		if err := run(domain.RosterStream(today), s); err != nil {
			return err
		}
	}

	entries := []domain.AddLogEntry{
		{Category: domain.CategoryIncidente, Text: "CONAF informa incendio forestal en sector Los Almendros, Viña del Mar. Se activa coordinación con Bomberos y municipios.", Comunas: []string{"05109"}, AlertID: ids[0], By: "cmunoz", At: ago(5.5)},
		{Category: domain.CategoryCoordinacion, Text: "Se declara Alerta Roja para Viña del Mar, Quilpué y Villa Alemana. Se informa a la Delegación Presidencial Regional.", Comunas: []string{"05109", "05801", "05804"}, AlertID: ids[0], By: "cmunoz", At: ago(5)},
		{Category: domain.CategoryComunicacion, Text: "SHOA actualiza aviso de marejadas: altura de ola de 3 a 4 metros en el litoral.", AlertID: ids[1], By: "drojas", At: ago(3.2)},
		{Category: domain.CategoryNovedad, Text: "Sin novedades en la provincia de Petorca durante la noche.", Comunas: []string{"05401", "05402"}, By: "jperez", At: ago(1)},
	}
	for _, e := range entries {
		e.EntryID, e.Date = uuid.NewString(), today
		if err := run(domain.LogStream(today), e); err != nil {
			return err
		}
	}
	return nil
}

// demoUsers are created in demo mode only; README lists their passwords.
var demoUsers = []struct{ username, display, role, password string }{
	{"operador", "Operador de turno (demo)", "operator", "operador-demo"},
	{"supervisor", "Supervisora (demo)", "supervisor", "supervisor-demo"},
	{"visor", "Visor (demo)", "viewer", "visor-demo-2026"},
}

// demoDisplayToken replaces the demo wall-display token at every demo start
// and logs the /display address that uses it (a token's secret is shown
// only when it is made).
func demoDisplayToken(ctx context.Context, st *stores, log zerolog.Logger, addr string) error {
	tokens := st.tokens
	list, err := tokens.List(ctx)
	if err != nil {
		return err
	}
	for _, t := range list {
		if t.Name == "pantalla-demo" {
			if err := tokens.Revoke(ctx, t.ID); err != nil {
				return err
			}
		}
	}
	_, secret, err := tokens.Create(ctx, auth.Token{Name: "pantalla-demo", Role: auth.Display, CreatedBy: "system:demo"})
	if err != nil {
		return err
	}
	log.Info().Str("url", "http://"+displayAddr(addr)+"/display?token="+secret).Msg("demo wall display")
	return nil
}
