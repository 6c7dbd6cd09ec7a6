// Package py holds the few pieces of Python 3 string and regular expression
// behaviour that fail2ban's configuration reader relies on: what str.isspace,
// str.strip and the re module's \s and \w accept, and a small backtracking
// matcher for the handful of fail2ban regexes whose exact Python semantics
// (ordered alternation, greedy backtracking, lookahead, "$" before a final
// newline) cannot be expressed with Go's RE2.
package py
