package ini

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/f2bproject/f2b/dsl/fail2ban/internal/py"
)

// DefaultSection is the name of the section whose options every other
// section inherits.
const DefaultSection = "DEFAULT"

// ErrDecode: a file is not valid UTF-8. fail2ban logs an error and skips
// such a file; so does the Reader, with a warning.
var ErrDecode = errors.New("file is not valid UTF-8")

// File is one parsed file, before it is merged with others.
type File struct {
	Path     string
	Defaults *Section   // [DEFAULT]; never nil
	Sections []*Section // every other section, in order of appearance

	// lines maps an option's line to the physical line of each line of
	// its value (continuation lines, blank lines kept inside).
	lines map[int][]int
}

// Lines returns the physical line of each line of the value of the option
// defined at line, or nil.
func (f *File) Lines(line int) []int { return f.lines[line] }

// Section returns the section called name.
func (f *File) Section(name string) *Section {
	for _, s := range f.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Parse reads one file with the dialect of Python's ConfigParser as
// fail2ban configures it (strict, inline comments ";" after whitespace,
// "#" and ";" comment lines, "=" and ":" delimiters, blank lines kept inside
// values, option names lower-cased). path is only used for positions.
//
// Lines that cannot be parsed are all reported, as an ErrorList; a missing
// section header and a section or an option given twice in the file stop
// the parse at once, as in Python.
func Parse(path string, data []byte) (*File, error) {
	if !utf8.Valid(data) {
		return nil, &Error{File: path, Msg: "cannot decode: " + ErrDecode.Error(), Err: ErrDecode}
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}

	f := &File{Path: path, Defaults: newSection(DefaultSection, path, 0), lines: map[int][]int{}}
	type part struct {
		sect *Section
		opt  string
	}
	parts := map[part][]string{}
	partLines := map[part][]int{}
	added := map[string]bool{} // section names and "section\x00option"
	var (
		cur         *Section
		optname     string
		hasOpt      bool // optname is set (Python: optname is truthy)
		indentLevel int
		errs        ErrorList
	)
	bad := func(lineno int, line string) {
		errs = append(errs, &Error{File: path, Line: lineno, Msg: "cannot parse line " + py.Repr(line), Err: ErrParse})
	}
	for i, line := range lines {
		lineno := i + 1
		commentStart := -1
		for idx := 0; ; {
			j := strings.IndexByte(line[idx:], ';')
			if j < 0 {
				break
			}
			j += idx
			if j == 0 {
				commentStart = 0
				break
			}
			if r, _ := utf8.DecodeLastRuneInString(line[:j]); py.IsSpace(r) {
				commentStart = j
				break
			}
			idx = j + 1
		}
		if t := py.Strip(line); strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
			commentStart = 0
		}
		value := line
		if commentStart >= 0 {
			value = line[:commentStart]
		}
		value = py.Strip(value)
		if value == "" {
			if commentStart < 0 && cur != nil && hasOpt {
				k := part{cur, optname}
				parts[k] = append(parts[k], "")
				partLines[k] = append(partLines[k], lineno)
			}
			continue
		}
		indent := 0
		for _, r := range line {
			if !py.IsSpace(r) {
				break
			}
			indent++
		}
		if cur != nil && hasOpt && indent > indentLevel {
			k := part{cur, optname}
			parts[k] = append(parts[k], value)
			partLines[k] = append(partLines[k], lineno)
			continue
		}
		indentLevel = indent
		if header, ok := sectionHeader(value); ok {
			switch {
			case f.Section(header) != nil:
				if added[header] {
					return nil, &Error{File: path, Line: lineno, Msg: fmt.Sprintf("section %s already exists", py.Repr(header)), Err: ErrParse}
				}
				cur = f.Section(header)
				added[header] = true
			case header == DefaultSection:
				cur = f.Defaults
				if cur.Line == 0 {
					cur.Line = lineno
				}
			default:
				cur = newSection(header, path, lineno)
				f.Sections = append(f.Sections, cur)
				added[header] = true
			}
			optname, hasOpt = "", false
			continue
		}
		if cur == nil {
			return nil, &Error{File: path, Line: lineno, Msg: "file contains no section headers, first line " + py.Repr(line), Err: ErrParse}
		}
		d := strings.IndexAny(value, "=:")
		if d < 0 {
			bad(lineno, line)
			continue
		}
		name := py.RStrip(value[:d])
		if name == "" {
			bad(lineno, line)
		}
		name = py.Lower(name)
		key := cur.Name + "\x00" + name
		if added[key] {
			return nil, &Error{File: path, Line: lineno, Msg: fmt.Sprintf("option %s in section %s already exists", py.Repr(name), py.Repr(cur.Name)), Err: ErrParse}
		}
		added[key] = true
		cur.Set(name, Value{File: path, Line: lineno})
		parts[part{cur, name}] = []string{py.Strip(value[d+1:])}
		partLines[part{cur, name}] = []int{lineno}
		optname, hasOpt = name, name != ""
	}
	for _, s := range append([]*Section{f.Defaults}, f.Sections...) {
		for _, k := range s.Keys() {
			v, _ := s.Get(k)
			v.Text = py.RStrip(strings.Join(parts[part{s, k}], "\n"))
			s.Set(k, v)
			if pl := partLines[part{s, k}]; len(pl) > 1 {
				f.lines[v.Line] = pl[:strings.Count(v.Text, "\n")+1]
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

// sectionHeader matches Python's SECTCRE, "\[(?P<header>.+)\]" (greedy,
// anchored at the start only).
func sectionHeader(value string) (string, bool) {
	if !strings.HasPrefix(value, "[") {
		return "", false
	}
	p := strings.LastIndexByte(value, ']')
	if p < 2 {
		return "", false
	}
	return value[1:p], true
}
