// Package intake brings received informes into the hub: a .docx uploaded
// by an operator, taken from the mailbox or imported becomes a durable
// parse job (package jobs), and the job parses it (package ingest) and
// appends one informe.received through package command, as every other
// change is made.
//
// Nothing is parsed inside a request: Submit stores the file in the job
// and returns at once. The same file (by SHA-256) submitted again returns
// the first job and appends nothing; the informe aggregate also refuses a
// SHA-256 it already holds, so a job that runs twice (a kill -9 between
// the append and River marking it done) appends once.
//
// intake imports ingest, command, domain, eventstore and jobs; it knows
// nothing of HTTP or WebSockets (job changes leave through Notifier).
package intake
