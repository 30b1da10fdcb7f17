// Package ingest turns a received informe (the .docx "Informe de Situación
// Regional" of the SENAPRED Valparaíso early-warning centre) into data.
//
// It owns three steps:
//
//   - ReadDocx, a WordprocessingML reader written with the standard library
//     only (archive/zip, encoding/xml). It returns a Document: the body's
//     paragraphs and tables in order, with the text a reader of the document
//     sees in Word: deleted text, field codes and fallback copies of text
//     boxes left out, merged cells expanded. The Go .docx modules available
//     are AGPL, writers, or read whole zip entries unbounded, and an informe
//     arrives from a mailbox or an upload, so every size is capped here.
//   - ParseInforme, which finds the informe's tables by their heading or
//     header row (never by position: real informes add, drop and reorder
//     sections) and returns an Informe whose Content marshals to exactly the
//     shape of the reference .expected.json files.
//   - Propose and Reconcile, pure functions over a parsed informe: each
//     "alerta vigente" row becomes a Proposal in the board's terms (level,
//     hazard, a scope of CUT codes read from the Cobertura text by
//     ParseCobertura, and in Spanish whatever could not be read, never
//     guessed), and Reconcile lists how the alerts in force differ from it
//     (missing, level, scope, extra, unreadable), with stable item IDs.
//
// Bad input never panics: it is an *Error with a Spanish Title and Detail
// for the operator and a Kind sentinel (ErrNotDocx, ErrEncrypted,
// ErrNoAlertas, ...) for code to branch on with errors.Is.
//
// Turning an Informe into commands, jobs and HTTP endpoints belongs to the
// callers. ingest may import domain for reference data; it must not import
// web, command, projections, realtime or eventstore (internal/archtest).
package ingest
