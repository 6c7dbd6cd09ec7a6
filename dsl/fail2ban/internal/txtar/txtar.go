package txtar

import (
	"os"
	"strings"
)

// File is one file of an archive.
type File struct {
	Name string
	Data string
}

// Archive is a comment and files.
type Archive struct {
	Comment string
	Files   []File
}

// Parse parses an archive.
func Parse(data string) *Archive {
	a := &Archive{}
	var cur *File
	var b strings.Builder
	flush := func() {
		if cur == nil {
			a.Comment = b.String()
		} else {
			cur.Data = b.String()
			a.Files = append(a.Files, *cur)
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(data, "\n") {
		t := strings.TrimRight(line, "\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			flush()
			cur = &File{Name: strings.TrimSpace(t[3 : len(t)-3])}
			continue
		}
		b.WriteString(line)
	}
	flush()
	return a
}

// ParseFile reads and parses an archive file.
func ParseFile(path string) (*Archive, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(string(data)), nil
}

// Get returns the data of file name and whether it exists.
func (a *Archive) Get(name string) (string, bool) {
	for _, f := range a.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return "", false
}

// Set replaces (or appends) file name.
func (a *Archive) Set(name, data string) {
	for i := range a.Files {
		if a.Files[i].Name == name {
			a.Files[i].Data = data
			return
		}
	}
	a.Files = append(a.Files, File{Name: name, Data: data})
}

// Format writes the archive back.
func (a *Archive) Format() string {
	var b strings.Builder
	b.WriteString(a.Comment)
	for _, f := range a.Files {
		b.WriteString("-- " + f.Name + " --\n")
		b.WriteString(f.Data)
		if f.Data != "" && !strings.HasSuffix(f.Data, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}
