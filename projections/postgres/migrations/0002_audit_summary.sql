-- What the audit's Spanish summary and field-level diff are computed from,
-- when /api/audit reads them (projections.AuditSource), so that the
-- Postgres read model answers exactly what the in-memory one does:
--
--   row_key  which row of the stream the event touched: a log entry's ID,
--            a roster slot, '' for the stream's one row (an alert, a user,
--            an informe). A record's "before" and "after" are the fold of
--            the events of its (stream, row_key) up to it, which
--            rm_audit_row finds.
--   schema,  the event as the log holds it (password hashes blanked), to
--   data     fold and to summarise.
--   recorded_nanos  the nanoseconds of recorded_at that timestamptz (whole
--            microseconds) drops, 0–999, so that a record's time is the
--            log's to the nanosecond, as everywhere else in the read model.
--
-- Rows written before this migration have NULL there: their records have
-- no summary or diff (as before), and neither do later records of the
-- same streams (their rows' histories are incomplete). `hub projections
-- rebuild audit` fills them from the log, without stopping the hub.
-- Adding nullable columns does not rewrite the table; the index is built
-- once, here.
--
-- rm_audit_row also serves a query for one stream (streams are a day's
-- or one alert's, a few thousand rows at most, which it finds and sorts),
-- so it replaces rm_audit_stream: one index less to maintain and to build
-- in a rebuild.
ALTER TABLE rm_audit
	ADD COLUMN row_key text COLLATE "C",
	ADD COLUMN schema  integer,
	ADD COLUMN data    json,
	ADD COLUMN recorded_nanos integer;
CREATE INDEX rm_audit_row ON rm_audit (stream, row_key, commit_position, prepare_position);
DROP INDEX rm_audit_stream;
