package fail2ban

import "fmt"

// ShellSplit splits s into words as Python's shlex.split does (POSIX mode,
// no comments): blanks separate words; single quotes keep everything
// literally; in double quotes a backslash only escapes '"' and '\'; outside
// quotes it escapes any character. fail2ban splits each journalmatch line
// this way.
func ShellSplit(s string) ([]string, error) {
	var (
		out   []string
		tok   []rune
		inTok bool
		quote rune
	)
	r := []rune(s)
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				tok = append(tok, c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\':
				if i+1 >= len(r) {
					return nil, fmt.Errorf("no closing quotation in %q", s)
				}
				i++
				if r[i] != '"' && r[i] != '\\' {
					tok = append(tok, '\\')
				}
				tok = append(tok, r[i])
			default:
				tok = append(tok, c)
			}
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if inTok {
				out = append(out, string(tok))
				tok, inTok = nil, false
			}
		case c == '\\':
			if i+1 >= len(r) {
				return nil, fmt.Errorf("no escaped character in %q", s)
			}
			i++
			tok = append(tok, r[i])
			inTok = true
		case c == '\'' || c == '"':
			quote = c
			inTok = true
		default:
			tok = append(tok, c)
			inTok = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("no closing quotation in %q", s)
	}
	if inTok {
		out = append(out, string(tok))
	}
	return out, nil
}
