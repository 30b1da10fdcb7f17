-- The log. position is the global position, allocated from es_head in
-- commit order (see doc.go); id makes appends idempotent; the unique
-- (stream, version) index serves stream reads and revision checks and is
-- the last guard against a forked stream. data is json, not jsonb, so the
-- bytes a writer appended are the bytes every reader gets.
CREATE TABLE es_events (
	position       bigint      PRIMARY KEY CHECK (position > 0),
	id             uuid        NOT NULL UNIQUE,
	stream         text        NOT NULL,
	version        bigint      NOT NULL CHECK (version >= 0),
	type           text        NOT NULL,
	schema         integer     NOT NULL,
	data           json        NOT NULL,
	actor_id       text        NOT NULL,
	actor_username text        NOT NULL,
	actor_role     text        NOT NULL,
	correlation_id text        NOT NULL,
	causation_id   text        NOT NULL,
	recorded_at    timestamptz NOT NULL,
	CONSTRAINT es_events_stream_version UNIQUE (stream, version)
);

-- The head of the log: the last allocated position. Every append
-- increments this one row (UPDATE ... RETURNING), which locks it until the
-- append commits or rolls back: positions are allocated one transaction at
-- a time, in commit order, and a rolled-back append gives its positions
-- back.
CREATE TABLE es_head (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	position  bigint  NOT NULL
);
INSERT INTO es_head (singleton, position) VALUES (true, 0);
