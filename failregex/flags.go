package failregex

import "strings"

// LocalizeFlags rewrites inline flags that open a group, "((?i)x)" or
// "(?:(?i)x)", to the scoped "(?i:x)", as fail2ban does before compiling
// its regexes (Python 3.11 refuses global flags anywhere but at the
// start). The first form loses its capture group, as in fail2ban. Compile
// applies it; CompilePython does not (it compiles Python's syntax as is).
func LocalizeFlags(regex string) string {
	if !strings.Contains(regex, "((?") && !strings.Contains(regex, "(?:(?") {
		return regex
	}
	var b strings.Builder
	for i := 0; i < len(regex); {
		if regex[i] == '(' && (i == 0 || regex[i-1] != '\\') {
			j := i + 1
			if strings.HasPrefix(regex[j:], "?:") {
				j += 2
			}
			if strings.HasPrefix(regex[j:], "(?") {
				k := j + 2
				for k < len(regex) && regex[k] >= 'a' && regex[k] <= 'z' {
					k++
				}
				if k > j+2 && k < len(regex) && regex[k] == ')' {
					b.WriteString(regex[j:k])
					b.WriteByte(':')
					i = k + 1
					continue
				}
			}
		}
		b.WriteByte(regex[i])
		i++
	}
	return b.String()
}
