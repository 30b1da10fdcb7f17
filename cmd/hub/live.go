package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/realtime"
)

// brokerNotifier adapts the realtime broker to the projector's Notifier:
// the projector knows nothing of realtime, and realtime nothing of the
// domain, so the translation happens here, in the composition root.
type brokerNotifier struct{ broker realtime.Broker }

// Notify implements projections.Notifier.
func (n brokerNotifier) Notify(ctx context.Context, c projections.Change) error {
	if c.Topic == projections.TopicUsers {
		return nil // user changes are not pushed to browsers
	}
	data, err := json.Marshal(c.Data)
	if err != nil {
		return fmt.Errorf("notify %s: %w", c.Type, err)
	}
	return n.broker.Publish(ctx, realtime.Message{
		Type: c.Type, Topic: c.Topic, Position: c.Position.String(),
		Comunas: c.Comunas, Region: c.Region, Data: data,
	})
}
