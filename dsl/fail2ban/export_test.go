package fail2ban

import "github.com/f2bproject/f2b/dsl/fail2ban/ini"

// SubstituteTagsForTest runs substituteTags on ordered tags.
func SubstituteTagsForTest(tags [][2]string, ignore []string) ([][2]string, error) {
	o := ini.NewOptions()
	for _, kv := range tags {
		o.Set(kv[0], ini.Value{Text: kv[1]})
	}
	ign := map[string]bool{}
	for _, k := range ignore {
		ign[k] = true
	}
	r, err := substituteTags(o, "", ign, nil)
	if err != nil {
		return nil, err
	}
	out := [][2]string{}
	for _, k := range r.Keys() {
		v, _ := r.Get(k)
		out = append(out, [2]string{k, v.Text})
	}
	return out, nil
}
