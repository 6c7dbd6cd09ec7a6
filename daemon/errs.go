package daemon

import (
	"errors"

	"github.com/f2bproject/f2b/stages/counter/jailerr"
)

// isAlreadyBanned tells a ban of a host the jail has banned already.
func isAlreadyBanned(err error) bool { return errors.Is(err, jailerr.ErrAlreadyBanned) }
