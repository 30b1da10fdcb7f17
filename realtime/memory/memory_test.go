package memory_test

import (
	"testing"

	"github.com/senapred-valparaiso/vigia/realtime"
	"github.com/senapred-valparaiso/vigia/realtime/brokertest"
	"github.com/senapred-valparaiso/vigia/realtime/memory"
)

func TestBroker(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) realtime.Broker {
		b := memory.New(memory.Options{Buffer: 128})
		t.Cleanup(func() { _ = b.Close() })
		return b
	})
}
