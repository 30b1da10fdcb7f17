package memory_test

import (
	"testing"

	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
	"github.com/senapred-valparaiso/vigia/projections/snapshottest"
)

func TestSnapshots(t *testing.T) {
	snapshottest.Run(t, func(*testing.T) projections.SnapshotStore { return memory.NewSnapshots() })
}
