package kernels

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocNamesDeclaredFunctions holds the package documentation to the
// code: every kernel identifier it names (f32GEMM4x8Go, ...) is declared
// in some file of the package, whatever that file's build tags.
func TestDocNamesDeclaredFunctions(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	declared := map[string]bool{}
	var doc string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name != "kernels" {
			continue // a generator (package main, build tag ignore)
		}
		if f.Doc != nil {
			doc += f.Doc.Text()
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				declared[d.Name.Name] = true
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						declared[ts.Name.Name] = true
					}
				}
			}
		}
	}
	names := regexp.MustCompile(`\b[fF]32[A-Z]\w*`).FindAllString(doc, -1)
	if len(names) == 0 {
		t.Fatal("the package documentation names no kernel function: the naming section is gone or this test reads the wrong file")
	}
	for _, n := range names {
		if !declared[n] {
			t.Errorf("the package documentation names %s, which the package does not declare", n)
		}
	}
}
