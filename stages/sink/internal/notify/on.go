package notify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/f2bproject/f2b/engine"
	"github.com/f2bproject/f2b/stages/sink/internal/sinkfmt"
)

// Actions is the set of action types a sink reports (its `on` attribute).
type Actions uint8

var actionNames = []string{"ban", "unban", "prolong"}

// ParseOn reads an `on` list: "ban", "unban" and "prolong" in any order.
// A nil list is ["ban"].
func ParseOn(list []string) (Actions, error) {
	if list == nil {
		return 1 << engine.Ban, nil
	}
	if len(list) == 0 {
		return 0, errors.New("the list is empty: name at least one of \"ban\", \"unban\" or \"prolong\"")
	}
	var set Actions
	var errs []error
	for _, name := range list {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "ban":
			set |= 1 << engine.Ban
		case "unban":
			set |= 1 << engine.Unban
		case "prolong":
			set |= 1 << engine.Prolong
		default:
			msg := fmt.Sprintf("unknown action %q; use \"ban\", \"unban\" or \"prolong\"", name)
			if s := sinkfmt.Suggest(name, actionNames); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, errors.New(msg))
		}
	}
	return set, errors.Join(errs...)
}

// Want reports whether ev is an action of a type in the set. A ban restored
// from saved state at start-up is never wanted: it was reported when it was
// made (fail2ban's norestored).
func (s Actions) Want(ev engine.Event) bool {
	a := ev.Action
	if ev.Kind != engine.KindAction || a == nil || a.Restored {
		return false
	}
	return a.Type >= engine.Ban && a.Type <= engine.Prolong && s&(1<<a.Type) != 0
}
