// Package report renders an informe (projections.InformeView) as a
// printable PDF report in Spanish, laid out like the centre's daily
// SENAPRED informe: a title block with the ingested informe's header, the
// alerts in force by level and hazard with a count table, the day's shifts
// and the novedades, with "Página X de Y" on every page.
//
// It owns the layout, the Spanish wording of dates and labels, and the
// embedded fonts (a Latin subset of DejaVu Sans, see fonts/README.md); the
// PDF objects are written by github.com/signintech/gopdf. Text the report
// cannot print (control characters, emoji, scripts outside the font) is
// dropped or shown as "?", so user input never makes rendering fail.
//
// The output depends only on its input: the same InformeView, location and
// options give the same bytes.
//
// Imports domain and projections only (for the view and the labels); it
// does no I/O besides writing to the io.Writer it is given.
package report
