package ini

import (
	"fmt"
	"slices"
)

// Value is an option's text and the place it was defined: the file and the
// line of the option's name. A value made by the reader itself (an automatic
// option) has an empty File.
type Value struct {
	Text string
	File string
	Line int
}

// Pos returns "file:line", or "" for a value without a file.
func (v Value) Pos() string {
	if v.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", v.File, v.Line)
}

// Options is an ordered set of options with Python dict semantics: a new key
// goes to the end, setting an existing key keeps its place.
type Options struct {
	keys []string
	vals map[string]Value
}

// NewOptions returns an empty set.
func NewOptions() *Options { return &Options{vals: map[string]Value{}} }

// Len returns the number of options.
func (o *Options) Len() int {
	if o == nil {
		return 0
	}
	return len(o.keys)
}

// Keys returns the option names in order. The slice must not be modified.
func (o *Options) Keys() []string {
	if o == nil {
		return nil
	}
	return o.keys
}

// Get returns the option key.
func (o *Options) Get(key string) (Value, bool) {
	if o == nil {
		return Value{}, false
	}
	v, ok := o.vals[key]
	return v, ok
}

// Text returns the text of option key, or "" when it is not set.
func (o *Options) Text(key string) string {
	v, _ := o.Get(key)
	return v.Text
}

// Has reports whether key is set.
func (o *Options) Has(key string) bool {
	_, ok := o.Get(key)
	return ok
}

// Set sets key, keeping its place when it exists.
func (o *Options) Set(key string, v Value) {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

// Delete removes key.
func (o *Options) Delete(key string) {
	if _, ok := o.vals[key]; !ok {
		return
	}
	delete(o.vals, key)
	o.keys = slices.DeleteFunc(o.keys, func(k string) bool { return k == key })
}

// Update sets every option of u in u's order (Python's dict.update).
func (o *Options) Update(u *Options) {
	for _, k := range u.Keys() {
		o.Set(k, u.vals[k])
	}
}

// Clone returns a copy.
func (o *Options) Clone() *Options {
	c := &Options{keys: slices.Clone(o.Keys()), vals: make(map[string]Value, o.Len())}
	for _, k := range c.keys {
		c.vals[k] = o.vals[k]
	}
	return c
}

// Merged returns a copy of o updated with u ({**o, **u} in Python).
func (o *Options) Merged(u *Options) *Options {
	c := o.Clone()
	c.Update(u)
	return c
}

// Map returns the options as a plain map of texts.
func (o *Options) Map() map[string]string {
	m := make(map[string]string, o.Len())
	for _, k := range o.Keys() {
		m[k] = o.vals[k].Text
	}
	return m
}

// Section is a named set of options and the place its header first appeared.
type Section struct {
	Name string
	File string
	Line int
	*Options
}

func newSection(name, file string, line int) *Section {
	return &Section{Name: name, File: file, Line: line, Options: NewOptions()}
}

func (s *Section) clone() *Section {
	return &Section{Name: s.Name, File: s.File, Line: s.Line, Options: s.Options.Clone()}
}
