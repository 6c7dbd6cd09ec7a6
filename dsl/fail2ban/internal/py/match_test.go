package py

import (
	"reflect"
	"testing"
)

func TestFindAll(t *testing.T) {
	// (?:a|ab)(?=c) finds "ab" by backtracking into the alternation.
	p := Seq(Alt(Lit("a"), Lit("ab")), Look(Lit("c")))
	s := []rune("xabc abc")
	var got []string
	for _, m := range FindAll(p, s, 0) {
		got = append(got, string(s[m.Start:m.End]))
	}
	if !reflect.DeepEqual(got, []string{"ab", "ab"}) {
		t.Errorf("got %q", got)
	}
	// x* finds empty matches between the x runs, as re.finditer does.
	s = []rune("axxb")
	var spans [][2]int
	for _, m := range FindAll(StarClass(AnyOf("x")), s, 0) {
		spans = append(spans, [2]int{m.Start, m.End})
	}
	if want := [][2]int{{0, 0}, {1, 3}, {3, 3}, {4, 4}}; !reflect.DeepEqual(spans, want) {
		t.Errorf("spans %v, want %v", spans, want)
	}
	// "$" matches before a final newline.
	if _, ok := MatchAt(Seq(Lit("a"), End), []rune("a\n"), 0, 0); !ok {
		t.Error("$ before final newline")
	}
	if m, ok := MatchAt(Seq(Group(1, PlusClass(IsWord)), Lit("=")), []rune("key=v"), 0, 1); !ok || m.Groups[1] != [2]int{0, 3} {
		t.Errorf("group: %v %v", m, ok)
	}
}

func TestStrip(t *testing.T) {
	if got := Strip("\x1c\u00a0 a b\u2003\n"); got != "a b" {
		t.Errorf("Strip = %q", got)
	}
	if IsWord('-') || !IsWord('é') || !IsSpace('\x1f') || IsSpace('\u200b') {
		t.Error("classes")
	}
}
