package engine

// MatchesReader is implemented by a stage that takes actions and can
// tell whether it reads their Matches, the lines behind a ban (a mail
// body does; a firewall rule does not). A consumer that does not
// implement it is taken to read them.
type MatchesReader interface {
	ReadsMatches() bool
}

// MatchesKeeper is implemented by a stage that keeps the lines of the
// failures it counts so that its bans carry them (a counter). Compile
// calls KeepMatches(false) on it, before the graph runs, when none of its
// consumers reads Matches: keeping a line costs a copy and memory for
// every failure, and a pipeline that only blocks and logs never shows
// them. Without the call a keeper keeps them.
type MatchesKeeper interface {
	KeepMatches(keep bool)
}

// keepMatches tells each MatchesKeeper of g whether its consumers read
// Matches.
func (g *Graph) keepMatches() {
	for _, n := range g.nodes {
		k, ok := n.stage.(MatchesKeeper)
		if !ok {
			continue
		}
		keep := false
		for _, c := range n.consumers {
			if r, ok := c.stage.(MatchesReader); !ok || r.ReadsMatches() {
				keep = true
				break
			}
		}
		k.KeepMatches(keep)
	}
}
