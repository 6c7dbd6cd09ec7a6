package dsl

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Files is the parsed source text of a pipeline, kept for diagnostics.
type Files map[string]*hcl.File

// expandPaths turns files and directories into the list of files to parse.
// A directory stands for all of its *.hcl files, as Terraform reads a module.
func expandPaths(paths []string) ([]string, hcl.Diagnostics) {
	var files []string
	var diags hcl.Diagnostics
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read pipeline",
				Detail:   fmt.Sprintf("%v.", err),
			})
			continue
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		matches, _ := filepath.Glob(filepath.Join(p, "*.hcl"))
		sort.Strings(matches)
		if len(matches) == 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Empty pipeline directory",
				Detail:   fmt.Sprintf("The directory %s holds no *.hcl files.", p),
			})
		}
		files = append(files, matches...)
	}
	return files, diags
}

// parse reads and parses every file. Parse errors of one file do not stop
// the others from being parsed.
func parse(paths []string) ([]*hcl.File, Files, hcl.Diagnostics) {
	names, diags := expandPaths(paths)
	parser := hclparse.NewParser()
	var files []*hcl.File
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read pipeline",
				Detail:   fmt.Sprintf("%v.", err),
			})
			continue
		}
		f, d := parser.ParseHCL(src, name)
		diags = append(diags, d...)
		if f != nil {
			files = append(files, f)
		}
	}
	return files, parser.Files(), diags
}

// ParseSource parses one pipeline held in memory, named name for
// diagnostics. Tests and the importer use it.
func parseSource(name string, src []byte) ([]*hcl.File, Files, hcl.Diagnostics) {
	parser := hclparse.NewParser()
	f, diags := parser.ParseHCL(src, name)
	var files []*hcl.File
	if f != nil {
		files = append(files, f)
	}
	return files, parser.Files(), diags
}

func hclsyntaxParse(s string) (hcl.Expression, hcl.Diagnostics) {
	return hclsyntax.ParseExpression([]byte(s), "override", hcl.InitialPos)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
