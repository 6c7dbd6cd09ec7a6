package journal

import (
	"sync"

	"github.com/f2bproject/f2b/engine"
)

// memStore is an engine.Store in memory; it keeps positions only.
type memStore struct {
	mu    sync.Mutex
	pos   map[string][]byte
	saves int
}

var _ engine.Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{pos: map[string][]byte{}} }

func (m *memStore) Bans(string) ([]engine.BanRecord, error) { return nil, nil }

func (m *memStore) Record([]*engine.Action) error { return nil }

func (m *memStore) Position(key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.pos[key]
	return v, ok, nil
}

func (m *memStore) SavePositions(p map[string][]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	for k, v := range p {
		if v == nil {
			delete(m.pos, k)
			continue
		}
		m.pos[k] = v
	}
	return nil
}

// position returns the saved position under key.
func (m *memStore) position(key string) (position, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.pos[key]
	if !ok {
		return position{}, false
	}
	p, err := decodePosition(v)
	return p, err == nil
}
