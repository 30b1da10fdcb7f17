package postgres

import (
	"testing"

	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/snapshottest"
)

func TestSnapshots(t *testing.T) {
	t.Parallel()
	snapshottest.Run(t, func(t *testing.T) projections.SnapshotStore { return openModel(t, pgDSN(t)).Snapshots() })
}
