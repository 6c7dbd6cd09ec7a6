package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// position is where the stage is in the journal: the cursor of the last
// entry handed on and that entry's __REALTIME_TIMESTAMP, which lets a
// rewound start tell where the saved entry was even when its cursor does
// not show up again (a vacuumed or rotated journal).
type position struct {
	Cursor   string `json:"cursor"`
	Realtime int64  `json:"realtime_usec"`
}

func (p position) valid() bool { return p.Cursor != "" }

// encode is the value kept in the store.
func (p position) encode() []byte {
	b, _ := json.Marshal(p)
	return b
}

// decodePosition reads a stored position. A cursor journalctl would
// refuse (it fails with "Failed to seek to cursor" and would do so on
// every restart) is an error, so the stage starts without it.
func decodePosition(b []byte) (position, error) {
	var p position
	if err := json.Unmarshal(b, &p); err != nil {
		return position{}, err
	}
	if err := checkCursor(p.Cursor); err != nil {
		return position{}, err
	}
	return p, nil
}

// checkCursor checks the shape of a journal cursor: ";"-separated
// key=value pairs with the keys journald writes (s, i, b, m, t, x).
func checkCursor(c string) error {
	if c == "" {
		return errors.New("empty cursor")
	}
	for _, part := range strings.Split(c, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || v == "" || len(k) != 1 || !strings.Contains("sibmtx", k) {
			return fmt.Errorf("malformed journal cursor %q", c)
		}
	}
	return nil
}
