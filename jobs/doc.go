// Package jobs is the hub's one durable background job engine: River
// (github.com/riverqueue/river) on SQLite in its own file (data/jobs.db) on
// the embedded default, or on Postgres when the hub runs scaled out.
//
// Everything that must not run inside a request and must survive a restart
// — informe parsing, the mailbox poller, feeds, backups — is a River job
// registered here by the package that owns the work. A job is a row in the
// jobs database before Insert returns, so a crash (kill -9) between the
// insert and the work loses nothing: after the restart the job runs again
// (a job that was running when the process died is rescued after
// Config.RescueAfter). Jobs must therefore be idempotent: the workers of this
// project append with deterministic event IDs or check the log first.
//
// In a fleet (Postgres) each job is locked by one instance when it runs and
// periodic jobs are scheduled by the elected leader only, so each job runs
// on one instance.
//
// jobs imports River and the database drivers only, nothing of ours: it
// does not know what a job does.
package jobs
