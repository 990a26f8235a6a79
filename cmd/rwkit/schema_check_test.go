package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// A small, strict JSON Schema checker for the documented --output json
// schemas in schema/: the subset of draft 2020-12 they use, and stricter
// than the standard where a lax reading would let undocumented output
// through. A keyword it does not know is an error, so a schema cannot say
// more than this checks.
//
//   - type (a name or a list), enum, $ref (to #/$defs/NAME in the same
//     file or FILE#/$defs/NAME beside it), anyOf, properties, required,
//     additionalProperties (false, or a schema for maps), items;
//     $schema, $id, title, description and $defs are annotations.
//   - An object schema must say additionalProperties: a schema with
//     properties must close itself (false), and one without is a map.
//   - Every property has a type (or a $ref / anyOf) and a description,
//     and its name is snake_case.

var schemaKeywords = map[string]bool{
	"$schema": true, "$id": true, "title": true, "description": true, "$defs": true,
	"type": true, "enum": true, "$ref": true, "anyOf": true,
	"properties": true, "required": true, "additionalProperties": true, "items": true,
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

type schemaSet struct {
	dir   string
	files map[string]map[string]any
}

func loadSchemas(t *testing.T, dir string) *schemaSet {
	t.Helper()
	ss := &schemaSet{dir: dir, files: map[string]map[string]any{}}
	names, err := filepath.Glob(filepath.Join(dir, "*.schema.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no schemas in %s: %v", dir, err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := decodeNumbers(b, &doc); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		ss.files[filepath.Base(n)] = doc
	}
	return ss
}

// decodeNumbers decodes keeping numbers as json.Number, so that integer
// and number can be told apart.
func decodeNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("more than one JSON value")
	}
	return nil
}

// lint checks the schemas themselves: known keywords, resolvable refs,
// typed and described snake_case properties, closed objects.
func (ss *schemaSet) lint() []string {
	var errs []string
	var walk func(file string, s map[string]any, path string, isProperty bool)
	walk = func(file string, s map[string]any, path string, isProperty bool) {
		for k := range s {
			if !schemaKeywords[k] {
				errs = append(errs, fmt.Sprintf("%s %s: unknown keyword %q", file, path, k))
			}
		}
		if r, ok := s["$ref"].(string); ok {
			if _, _, err := ss.resolve(file, r); err != nil {
				errs = append(errs, fmt.Sprintf("%s %s: %v", file, path, err))
			}
			return
		}
		_, hasType := s["type"]
		_, hasAnyOf := s["anyOf"]
		if isProperty && !hasType && !hasAnyOf {
			errs = append(errs, fmt.Sprintf("%s %s: a property without a type", file, path))
		}
		if isProperty {
			if d, _ := s["description"].(string); d == "" && !hasAnyOf {
				errs = append(errs, fmt.Sprintf("%s %s: a property without a description", file, path))
			}
		}
		if types(s)["object"] {
			ap, ok := s["additionalProperties"]
			_, hasProps := s["properties"]
			switch {
			case !ok:
				errs = append(errs, fmt.Sprintf("%s %s: an object must say additionalProperties", file, path))
			case hasProps && ap != false:
				errs = append(errs, fmt.Sprintf("%s %s: an object with properties must set additionalProperties false", file, path))
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			for name, p := range props {
				if !snakeCase.MatchString(name) {
					errs = append(errs, fmt.Sprintf("%s %s: property %q is not snake_case", file, path, name))
				}
				walk(file, p.(map[string]any), path+"."+name, true)
			}
			for _, r := range asList(s["required"]) {
				if _, ok := props[r.(string)]; !ok {
					errs = append(errs, fmt.Sprintf("%s %s: required %q is not a property", file, path, r))
				}
			}
		}
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			walk(file, ap, path+"{}", false)
		}
		if it, ok := s["items"].(map[string]any); ok {
			walk(file, it, path+"[]", false)
		}
		for i, a := range asList(s["anyOf"]) {
			walk(file, a.(map[string]any), fmt.Sprintf("%s|%d", path, i), false)
		}
		if defs, ok := s["$defs"].(map[string]any); ok {
			for name, d := range defs {
				walk(file, d.(map[string]any), "$defs."+name, false)
			}
		}
	}
	for file, doc := range ss.files {
		walk(file, doc, "", false)
	}
	sort.Strings(errs)
	return errs
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func types(s map[string]any) map[string]bool {
	out := map[string]bool{}
	switch t := s["type"].(type) {
	case string:
		out[t] = true
	case []any:
		for _, x := range t {
			out[x.(string)] = true
		}
	}
	return out
}

// resolve finds the schema ref points at, from file.
func (ss *schemaSet) resolve(file, ref string) (string, map[string]any, error) {
	target, pointer, _ := strings.Cut(ref, "#")
	if target == "" {
		target = file
	}
	doc, ok := ss.files[target]
	if !ok {
		return "", nil, fmt.Errorf("$ref %q: no file %s", ref, target)
	}
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if part == "" {
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return "", nil, fmt.Errorf("$ref %q: %s is not an object", ref, part)
		}
		if cur, ok = m[part]; !ok {
			return "", nil, fmt.Errorf("$ref %q: no %s", ref, part)
		}
	}
	s, ok := cur.(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("$ref %q: not a schema", ref)
	}
	return target, s, nil
}

// validate checks v against s (from file) and returns every violation,
// each with its path in v.
func (ss *schemaSet) validate(file string, s map[string]any, v any, path string) []string {
	if r, ok := s["$ref"].(string); ok {
		f, target, err := ss.resolve(file, r)
		if err != nil {
			return []string{path + ": " + err.Error()}
		}
		return ss.validate(f, target, v, path)
	}
	if anyOf := asList(s["anyOf"]); len(anyOf) > 0 {
		var all []string
		for _, a := range anyOf {
			errs := ss.validate(file, a.(map[string]any), v, path)
			if len(errs) == 0 {
				return nil
			}
			all = append(all, errs...)
		}
		return []string{fmt.Sprintf("%s: matches none of anyOf: %s", path, strings.Join(all, "; "))}
	}
	ts := types(s)
	kind := jsonKind(v)
	if len(ts) > 0 && !ts[kind] && !(kind == "integer" && ts["number"]) {
		return []string{fmt.Sprintf("%s: %s, documented as %v", path, kind, s["type"])}
	}
	var errs []string
	if enum := asList(s["enum"]); len(enum) > 0 {
		found := false
		for _, e := range enum {
			found = found || fmt.Sprint(e) == fmt.Sprint(v)
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", path, v, enum))
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asList(s["required"]) {
			if _, ok := x[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: required key %q missing", path, r))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if p, ok := props[k]; ok {
				if !snakeCase.MatchString(k) {
					errs = append(errs, fmt.Sprintf("%s: key %q is not snake_case", path, k))
				}
				errs = append(errs, ss.validate(file, p.(map[string]any), x[k], path+"."+k)...)
				continue
			}
			ap, ok := s["additionalProperties"].(map[string]any)
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: key %q is not documented", path, k))
				continue
			}
			errs = append(errs, ss.validate(file, ap, x[k], path+"["+strconv.Quote(k)+"]")...)
		}
	case []any:
		if it, ok := s["items"].(map[string]any); ok {
			for i, e := range x {
				errs = append(errs, ss.validate(file, it, e, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func jsonKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// TestSchemaCheckerCatches shows the checker failing on what it must
// refuse: a test that cannot fail would prove nothing.
func TestSchemaCheckerCatches(t *testing.T) {
	ss := loadSchemas(t, "schema")
	_, doc, err := ss.resolve("push.schema.json", "#")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, out, want string }{
		{"ok", `{"result":null,"error":null,"exit_code":0}`, ""},
		{"missing exit_code", `{"result":null,"error":null}`, `required key "exit_code" missing`},
		{"undocumented key", `{"result":null,"error":null,"exit_code":0,"Extra":1}`, `key "Extra" is not documented`},
		{"wrong type", `{"result":null,"error":null,"exit_code":"0"}`, "string, documented as integer"},
		{"not an integer", `{"result":null,"error":null,"exit_code":1.5}`, "number, documented as integer"},
		{"bad enum", `{"result":null,"error":{"message":"m","kind":"oops"},"exit_code":1}`, `oops is not one of`},
		{"nested undocumented", `{"result":null,"error":{"message":"m","kind":"usage","Flag":"--x"},"exit_code":2}`, `key "Flag" is not documented`},
		{"ref into common", `{"result":null,"error":{"kind":"usage"},"exit_code":2}`, `required key "message" missing`},
	} {
		var v any
		if err := decodeNumbers([]byte(tc.out), &v); err != nil {
			t.Fatal(err)
		}
		errs := strings.Join(ss.validate("push.schema.json", doc, v, "$"), "\n")
		if (tc.want == "") != (errs == "") || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: errors %q, want %q", tc.name, errs, tc.want)
		}
	}
	if errs := ss.lint(); len(errs) > 0 {
		t.Errorf("the schemas:\n%s", strings.Join(errs, "\n"))
	}
}
