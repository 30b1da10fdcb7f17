-- The read model of a scaled-out hub. Every rm_ table is a projection of
-- the event log, written with rm_checkpoint in one transaction; all of it
-- can be thrown away and rebuilt (hub projections rebuild), so no table
-- here is a source of truth. Views are stored as the JSON the API answers
-- (json, not jsonb: the bytes written are the bytes read, nanoseconds
-- included), next to the columns that queries select and order by, and
-- that people querying the database need. Keys and ordered text columns
-- are COLLATE "C": compared byte by byte, as Go compares strings, and
-- without the cost of a locale.

-- The position of the last event applied to every rm_ table. generation
-- counts the rebuilds swapped in, so an instance that caches aggregate
-- states knows when to drop them.
CREATE TABLE rm_checkpoint (
	singleton        boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
	commit_position  bigint      NOT NULL,
	prepare_position bigint      NOT NULL,
	generation       bigint      NOT NULL,
	updated_at       timestamptz NOT NULL
);
INSERT INTO rm_checkpoint VALUES (true, 0, 0, 0, now());

-- Each stream's fold (projections.StreamState as JSON): the domain
-- aggregate and what the views show beyond it. Applying an event loads the
-- stream's state, folds the event in with the same code as the in-memory
-- read model, and writes the state and the view rows back.
CREATE TABLE rm_streams (
	stream text COLLATE "C" PRIMARY KEY,
	state  json NOT NULL
);

-- Alerts, in force and cancelled, keyed by the ID in their stream name.
CREATE TABLE rm_alerts (
	id          text        COLLATE "C" PRIMARY KEY,
	status      text        COLLATE "C" NOT NULL,
	level       text        NOT NULL,
	hazard      text        NOT NULL,
	title       text        NOT NULL,
	declared_at timestamptz NOT NULL,
	version     bigint      NOT NULL,
	updated_by  text        NOT NULL,
	view        json        NOT NULL
);
CREATE INDEX rm_alerts_status ON rm_alerts (status);

-- Assigned shifts; an emptied slot has no row.
CREATE TABLE rm_shifts (
	date    text    COLLATE "C" NOT NULL,
	slot    text    COLLATE "C" NOT NULL,
	start   text    COLLATE "C" NOT NULL,
	lead    text    NOT NULL,
	version integer NOT NULL,
	view    json    NOT NULL,
	PRIMARY KEY (date, slot)
);

-- Log entries (novedades) by the date of their stream. seq_* is the
-- position of the event that added the entry: the order they were written.
CREATE TABLE rm_log (
	date         text    COLLATE "C" NOT NULL,
	id           text    COLLATE "C" NOT NULL,
	seq_commit   bigint  NOT NULL,
	seq_prepare  bigint  NOT NULL,
	category     text    NOT NULL,
	version      integer NOT NULL,
	view         json    NOT NULL,
	PRIMARY KEY (date, id)
);
CREATE INDEX rm_log_day ON rm_log (date, seq_commit, seq_prepare);
CREATE INDEX rm_log_id ON rm_log (id);

-- The header of each day's latest informe.
CREATE TABLE rm_informes (
	date   text COLLATE "C" PRIMARY KEY,
	number text NOT NULL,
	title  text NOT NULL,
	view   json NOT NULL
);

-- Users. The view omits the password hash; it has its own column and never
-- leaves the server. last_* is the position of the user's latest event.
CREATE TABLE rm_users (
	id            text    COLLATE "C" PRIMARY KEY,
	username      text    COLLATE "C" NOT NULL,
	role          text    NOT NULL,
	disabled      boolean NOT NULL,
	password_hash text    NOT NULL,
	last_commit   bigint  NOT NULL,
	last_prepare  bigint  NOT NULL,
	view          json    NOT NULL
);
CREATE INDEX rm_users_username ON rm_users (username);

-- The audit index: one row per event, who did what to which stream and
-- when. The event itself (and so the diff) is in the log, at its position.
CREATE TABLE rm_audit (
	commit_position  bigint      NOT NULL,
	prepare_position bigint      NOT NULL,
	stream           text        COLLATE "C" NOT NULL,
	type             text        COLLATE "C" NOT NULL,
	version          bigint      NOT NULL,
	actor_id         text        NOT NULL,
	actor_username   text        COLLATE "C" NOT NULL,
	actor_role       text        NOT NULL,
	recorded_at      timestamptz NOT NULL,
	correlation_id   text        NOT NULL,
	PRIMARY KEY (commit_position, prepare_position)
);
CREATE INDEX rm_audit_actor ON rm_audit (actor_username, commit_position);
CREATE INDEX rm_audit_stream ON rm_audit (stream, commit_position);
CREATE INDEX rm_audit_type ON rm_audit (type, commit_position);
CREATE INDEX rm_audit_recorded_at ON rm_audit (recorded_at);
