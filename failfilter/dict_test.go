package failfilter

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// TestDictModel: random sets, deletes, resets and copies of a dict give
// what a Go map gives, for keys with a position slot and beyond.
func TestDictModel(t *testing.T) {
	var keys []fkey
	for i := range maxPos + 300 {
		keys = append(keys, keyOf(fmt.Sprintf("dict_test_%d", i)))
	}
	keys = append(keys, kMlfid, kUser, kMatches)
	r := rand.New(rand.NewPCG(9, 10))
	d := &dict{}
	model := map[fkey]string{}
	for step := range 50000 {
		k := keys[r.IntN(len(keys))]
		if step%10000 < 5000 {
			k = keys[r.IntN(40)] // small dicts a while, then big ones
		}
		switch op := r.IntN(20); {
		case op < 10:
			v := fmt.Sprint(step)
			d.set(k, str(v))
			model[k] = v
		case op < 17:
			d.del(k)
			delete(model, k)
		case op < 18:
			d = d.copy()
		case op < 19:
			d.reset()
			clear(model)
		default:
			d.setNone(k)
			delete(model, k)
		}
		if d.len() != len(model) {
			t.Fatalf("step %d: %d entries, want %d", step, d.len(), len(model))
		}
		for _, k := range keys {
			v, ok := d.lookup(k)
			w, wok := model[k]
			if ok != wok || v.s != w {
				t.Fatalf("step %d: key %s = %q %v, want %q %v", step, k.name(), v.s, ok, w, wok)
			}
		}
	}
}

func TestKeyNames(t *testing.T) {
	if keyOf("user") != kUser || keyOf("nofail-matches") != kNofailMatches || kIP4.name() != "ip4" {
		t.Error("fixed keys are not the names'")
	}
	k := keyOf("some_field")
	if k.name() != "some_field" || keyOf("some_field") != k {
		t.Errorf("key %d is %q", k, k.name())
	}
}

// TestParseDotted: the fast IPv4 reader takes only what netip.ParseAddr
// takes, with the same address, and the canonical forms.
func TestParseDotted(t *testing.T) {
	texts := []string{"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3",
		"1.2.3.", "1.2.3.04", "192.168.000.1", "10.0.0.10", "1.2.3.4a", "", "1234.1.1.1", "::1", "::ffff:1.2.3.4", "0.0.0.00"}
	r := rand.New(rand.NewPCG(13, 14))
	for range 2000 {
		texts = append(texts, fmt.Sprintf("%d.%d.%d.%d", r.IntN(300), r.IntN(256), r.IntN(256), r.IntN(256)))
	}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(16) {
			b.WriteByte("0123456789.."[r.IntN(12)])
		}
		texts = append(texts, b.String())
	}
	fast := 0
	for _, s := range texts {
		got, ok := parseDotted(s)
		want, err := netip.ParseAddr(s)
		if ok {
			fast++
			if err != nil || got != want || want.String() != s {
				t.Fatalf("%q: %v, ParseAddr %v %v", s, got, want, err)
			}
		}
	}
	if fast < 100 {
		t.Errorf("only %d addresses read fast", fast)
	}
}
