package confval

import (
	"strings"
	"testing"
)

// TestIsHostName: what counts as a host name in an address list.
func TestIsHostName(t *testing.T) {
	for in, want := range map[string]bool{
		"host.example.org": true, "Trusted.Example.ORG": true, "localhost": true, "example.org.": true,
		"a-b.c0": true, "3proxy.example": true, "1.2.3.x": true,
		"10.0.0.1": false, "10.0.0.0/8": false, "::1": false, "fe80::1%eth0": false, "file:/etc/x": false,
		"": false, ".": false, "a..b": false, "-a.b": false, "a-.b": false, "a_b.c": false, "h\u00f4te.fr": false,
		"a b": false, strings.Repeat("a", 64) + ".b": false, strings.Repeat("a.", 127) + "a": false,
	} {
		if got := IsHostName(in); got != want {
			t.Errorf("IsHostName(%q) = %v, want %v", in, got, want)
		}
	}
}
