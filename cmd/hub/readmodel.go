package main

import (
	"context"

	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// readModel is what serve needs of a read model: the projector writes to
// it and the web layer reads from it.
type readModel = *memory.ReadModel

// openReadModel opens the read model HUB_READMODEL names.
func openReadModel(ctx context.Context, c *Config) (readModel, func() error, error) {
	return memory.New(), func() error { return nil }, nil
}
