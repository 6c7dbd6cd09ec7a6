package journal

import "github.com/f2bproject/f2b/internal/memstore"

// savedPosition returns the position store holds under key, decoded; ok
// is false when there is none or it does not decode.
func savedPosition(store *memstore.Store, key string) (position, bool) {
	v, ok, _ := store.Position(key)
	if !ok {
		return position{}, false
	}
	p, err := decodePosition(v)
	return p, err == nil
}
