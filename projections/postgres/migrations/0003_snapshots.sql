-- Time travel's snapshots (projections.Snapshot): at each day boundary
-- (midnight in America/Santiago), the states of the alerts in force and the
-- position of the last event recorded by then. Like every rm_ table it is
-- a cache of the log: deleting rows loses speed, never correctness. Every
-- hub of a fleet writes the same snapshots; the first write of a
-- (version, boundary) stays. version is the fold's SnapshotVersion, so a
-- hub with a changed fold ignores older rows.
CREATE TABLE rm_snapshots (
	version          integer     NOT NULL,
	boundary         timestamptz NOT NULL,
	commit_position  bigint      NOT NULL,
	prepare_position bigint      NOT NULL,
	alerts           json        NOT NULL,
	created_at       timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (version, boundary)
);
