package conformance

import (
	"os"
	"strings"
	"testing"
)

// minPass is the number of failJSON lines that must pass: all of Debian
// fail2ban 1.0.2's 1067.
const minPass = 1067

// TestConformance runs fail2ban's sample logs (downloaded on first use into
// a cache outside the repository, see scripts/fetch-fail2ban.sh) through
// the stock filters. It is skipped when the package cannot be fetched
// (offline) unless F2B_CONFORMANCE_REQUIRED is set.
func TestConformance(t *testing.T) {
	root, err := Fetch("")
	if err != nil {
		if os.Getenv("F2B_CONFORMANCE_REQUIRED") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	res, err := Run(root, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res.Print(&b)
	t.Log(strings.TrimSpace(b.String()))
	if res.Lines < minPass {
		t.Fatalf("only %d failJSON lines found, want at least %d", res.Lines, minPass)
	}
	if res.Passed < minPass {
		t.Errorf("%d/%d failJSON lines pass, want %d", res.Passed, res.Lines, minPass)
	}
	if res.OtherPassed != res.Other {
		t.Errorf("%d lines without annotation matched", res.Other-res.OtherPassed)
	}
	if len(res.Coverage) > 0 {
		t.Errorf("%d coverage problems", len(res.Coverage))
	}
	if len(res.Errors) > 0 {
		t.Errorf("%d filters could not be read", len(res.Errors))
	}
}
