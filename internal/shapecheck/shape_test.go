// Package shapecheck holds a test that keeps rwkit's product code in
// pieces a reader takes in at once: no function over maxLines lines or
// nested deeper than maxDepth control statements, outside a short list of
// deliberate exceptions (wire's hand-written decoders, one switch per
// protobuf field, kept whole because splitting them costs the decode
// path its speed: bench/README.md).
package shapecheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const (
	maxLines = 80
	maxDepth = 4
)

// exceptions are functions allowed past the limits, by "dir.Func" or
// "dir.Recv.Method", each with the reason.
var exceptions = map[string]string{
	"wire.decoder.histogram":    "native histogram decoder: one case per protobuf field",
	"wire.decoderV2.timeSeries": "RW 2.0 series decoder: one case per protobuf field",
}

// product lists the packages of the rwkit command and library, those
// the rwkit binary is built from, with their directories and Go files.
func product(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{if and .Module (eq .Module.Path "github.com/rwkit/rwkit")}}{{.Dir}}|{{join .GoFiles "|"}}{{end}}`,
		"github.com/rwkit/rwkit/cmd/rwkit").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		parts := strings.Split(line, "|")
		pkgs[parts[0]] = parts[1:]
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d product packages: %q", len(pkgs), out)
	}
	return pkgs
}

type finding struct {
	name  string
	pos   string
	lines int
	depth int
}

func TestFunctionShape(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var found []finding
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for dir, files := range product(t) {
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		for _, file := range files {
			f, err := parser.ParseFile(fset, filepath.Join(dir, file), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				name := rel + "." + funcName(fn)
				seen[name] = true
				lines := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
				if depth := nesting(fn.Body, 0); lines > maxLines || depth > maxDepth {
					found = append(found, finding{name, fset.Position(fn.Pos()).String(), lines, depth})
				}
			}
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].name < found[j].name })
	for _, f := range found {
		if _, ok := exceptions[f.name]; ok {
			t.Logf("allowed: %s (%d lines, depth %d): %s", f.name, f.lines, f.depth, exceptions[f.name])
			continue
		}
		t.Errorf("%s: %s is %d lines and nests %d deep (limits: %d lines, depth %d); cut it into named steps",
			f.pos, f.name, f.lines, f.depth, maxLines, maxDepth)
	}
	for name := range exceptions {
		if !seen[name] {
			t.Errorf("exception %s names no function: remove it", name)
		}
	}
}

func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	typ := fn.Recv.List[0].Type
	if s, ok := typ.(*ast.StarExpr); ok {
		typ = s.X
	}
	if ix, ok := typ.(*ast.IndexExpr); ok {
		typ = ix.X
	}
	if ix, ok := typ.(*ast.IndexListExpr); ok {
		typ = ix.X
	}
	return fmt.Sprintf("%s.%s", typ.(*ast.Ident).Name, fn.Name.Name)
}

// nesting is the deepest nesting of control statements (if, for, range,
// switch, select) below n; an else-if chain counts as one level, and a
// function literal's body goes on counting from where it stands.
func nesting(n ast.Node, depth int) int {
	deepest := depth
	visit := func(child ast.Node, d int) {
		if child != nil {
			deepest = max(deepest, nesting(child, d))
		}
	}
	if s, ok := n.(*ast.IfStmt); ok {
		visit(s.Body, depth+1)
		if elif, ok := s.Else.(*ast.IfStmt); ok {
			visit(elif, depth)
		} else if s.Else != nil {
			visit(s.Else, depth+1)
		}
		return deepest
	}
	if body := controlBody(n); body != nil {
		visit(body, depth+1)
		return deepest
	}
	ast.Inspect(n, func(c ast.Node) bool {
		if c == nil || c == n {
			return true
		}
		if _, ok := c.(*ast.IfStmt); ok || controlBody(c) != nil {
			visit(c, depth)
			return false
		}
		return true
	})
	return deepest
}

// controlBody is the body of a loop, switch or select statement, nil for
// any other node.
func controlBody(n ast.Node) *ast.BlockStmt {
	switch s := n.(type) {
	case *ast.ForStmt:
		return s.Body
	case *ast.RangeStmt:
		return s.Body
	case *ast.SwitchStmt:
		return s.Body
	case *ast.TypeSwitchStmt:
		return s.Body
	case *ast.SelectStmt:
		return s.Body
	}
	return nil
}
