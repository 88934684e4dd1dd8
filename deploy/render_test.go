package deploy_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// repoRoot is the module root: manifests/, openshift/ and the Dockerfile are
// found from here whatever directory go test runs in.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("runtime.Caller failed")
	}
	return filepath.Dir(filepath.Dir(file))
}

// render builds the kustomization in dir (relative to the module root) with
// the kustomize library, the way `kubectl apply -k` / `kustomize build` would,
// and returns each rendered object as YAML.
func render(t testing.TB, dir string) [][]byte {
	t.Helper()
	return renderAbs(t, filepath.Join(repoRoot(t), dir))
}

func renderAbs(t testing.TB, abs string) [][]byte {
	t.Helper()
	docs, err := renderDir(abs)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", abs, err)
	}
	return docs
}

func renderDir(abs string) ([][]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		return nil, err
	}
	var docs [][]byte
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		docs = append(docs, y)
	}
	return docs, nil
}
