package translate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The specs and schemas live outside the module (../shared from the repo
// root). Tests that need them skip, saying so, when they are absent.

func sharedDir(env, sub string) string {
	if d := os.Getenv(env); d != "" {
		// a relative path may be meant from the repository root (make) or
		// from this package's directory (go test ./translate)
		if filepath.IsAbs(d) {
			return d
		}
		if _, err := os.Stat(d); err == nil {
			return d
		}
		return filepath.Join("..", d)
	}
	return filepath.Join("..", "..", "shared", sub)
}

func specDir() string    { return sharedDir("SPEC_DIR", "spec") }
func schemasDir() string { return sharedDir("SCHEMAS_DIR", "schemas") }

var (
	specMu    sync.Mutex
	specCache = map[string]*openapi3.T{}
)

// openAPISchema returns a component schema of a spec file, skipping the test
// when the spec directory is absent.
func openAPISchema(t testing.TB, file, name string) *openapi3.Schema {
	t.Helper()
	path := filepath.Join(specDir(), file)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("spec %s not found (set SPEC_DIR): %v", path, err)
	}
	specMu.Lock()
	defer specMu.Unlock()
	doc, ok := specCache[path]
	if !ok {
		var err error
		doc, err = openapi3.NewLoader().LoadFromFile(path)
		if err != nil {
			t.Fatalf("load %s: %v", path, err)
		}
		specCache[path] = doc
	}
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		t.Fatalf("%s has no schema %s", file, name)
	}
	return ref.Value
}

// validateOpenAPI validates a JSON document against a component schema,
// including formats (date-time).
func validateOpenAPI(t testing.TB, file, name string, doc []byte) {
	t.Helper()
	s := openAPISchema(t, file, name)
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if err := s.VisitJSON(v, openapi3.MultiErrors(), openapi3.EnableFormatValidation()); err != nil {
		t.Fatalf("%s does not validate against %s: %v", name, file, err)
	}
}

var (
	jsMu       sync.Mutex
	jsCompiled = map[string]*jsonschema.Schema{}
)

// jsonSchema compiles one of the SBOM schemas offline: the $ids the
// CycloneDX schema refers to are mapped to the local copies.
func jsonSchema(t testing.TB, file string) *jsonschema.Schema {
	t.Helper()
	dir := schemasDir()
	if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
		t.Skipf("schema %s not found in %s (set SCHEMAS_DIR): %v", file, dir, err)
	}
	jsMu.Lock()
	defer jsMu.Unlock()
	if s, ok := jsCompiled[file]; ok {
		return s
	}
	local := map[string]string{
		"http://cyclonedx.org/schema/spdx.schema.json":     "cyclonedx-spdx.schema.json",
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": "cyclonedx-jsf-0.82.schema.json",
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(offlineLoader{dir: dir, local: local})
	for id, f := range local {
		doc := loadJSONFile(t, filepath.Join(dir, f))
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("add %s: %v", id, err)
		}
	}
	main := loadJSONFile(t, filepath.Join(dir, file))
	url := "file:///schemas/" + file
	if err := c.AddResource(url, main); err != nil {
		t.Fatalf("add %s: %v", file, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", file, err)
	}
	jsCompiled[file] = s
	return s
}

// offlineLoader serves only local files; anything else fails the compile
// rather than reaching the network.
type offlineLoader struct {
	dir   string
	local map[string]string
}

func (l offlineLoader) Load(url string) (any, error) {
	if f, ok := l.local[url]; ok {
		b, err := os.ReadFile(filepath.Join(l.dir, f))
		if err != nil {
			return nil, err
		}
		return jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	}
	return nil, &os.PathError{Op: "load", Path: url, Err: os.ErrNotExist}
}

func loadJSONFile(t testing.TB, path string) any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func validateJSONSchema(t testing.TB, file string, doc []byte) {
	t.Helper()
	s := jsonSchema(t, file)
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(doc)))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if err := s.Validate(v); err != nil {
		t.Fatalf("does not validate against %s: %v", file, err)
	}
}
