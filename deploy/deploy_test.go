// Package deploy_test validates the deployment files: the Dockerfile,
// manifests/ and openshift/. It renders every kustomization with the kustomize
// library, decodes every object strictly into the Kubernetes API types and
// checks what an operator relies on (see checks_test.go). Nothing is applied to
// a cluster.
package deploy_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

var (
	renderMu    sync.Mutex
	renderCache = map[string][]object{}
)

// rendered renders dir (relative to the module root) once per test binary and
// decodes every object strictly.
func rendered(t testing.TB, dir string) []object {
	t.Helper()
	renderMu.Lock()
	defer renderMu.Unlock()
	if objs, ok := renderCache[dir]; ok {
		return objs
	}
	objs, err := decodeAll(render(t, dir))
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	renderCache[dir] = objs
	return objs
}

func only[T any](t testing.TB, objs []object, kind string) *T {
	t.Helper()
	var found []*T
	for _, o := range objs {
		if o.Kind == kind {
			found = append(found, o.Obj.(*T))
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s, got %d", kind, len(found))
	}
	return found[0]
}

func kinds(objs []object) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.Kind)
	}
	sort.Strings(ks)
	return ks
}

// standIn is the stand-in NeuVector controller Deployment of the test data.
func standIn(t testing.TB) *appsv1.Deployment {
	t.Helper()
	return only[appsv1.Deployment](t, rendered(t, "deploy/testdata/controller"), "Deployment")
}

func readFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertNone(t *testing.T, what string, p problems) {
	t.Helper()
	for _, s := range p {
		t.Errorf("%s: %s", what, s)
	}
}

// hasDirective: strategic-merge directives make a file a patch, not an object.
func hasDirective(b []byte) bool { return bytes.Contains(b, []byte("$patch:")) }

// TestEveryFileDecodesStrictly decodes every YAML file of manifests/,
// openshift/ and the test data strictly: objects into their API types,
// kustomization files into kustomize's type, JSON6902 patches into operations.
func TestEveryFileDecodesStrictly(t *testing.T) {
	root := repoRoot(t)
	n := 0
	for _, dir := range []string{"manifests", "openshift", "deploy/testdata"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			n++
			if err := decodeFile(filepath.Base(path), b); err != nil {
				t.Errorf("%s: %v", rel, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 20 {
		t.Fatalf("decoded only %d files", n)
	}
}

func decodeFile(base string, b []byte) error {
	switch {
	case base == "kustomization.yaml":
		j, err := yaml.YAMLToJSONStrict(b)
		if err != nil {
			return err
		}
		var k types.Kustomization
		return strictInto(j, &k)
	case bytes.HasPrefix(bytes.TrimSpace(stripComments(b)), []byte("- ")):
		j, err := yaml.YAMLToJSONStrict(b)
		if err != nil {
			return err
		}
		var ops []jsonPatchOp
		return strictInto(j, &ops)
	case hasDirective(b):
		return nil // applied and checked in TestKubectlPatchRemoval
	}
	for _, doc := range splitYAML(b) {
		if _, err := decodeStrict(doc); err != nil {
			return err
		}
	}
	return nil
}

func strictInto(j []byte, v any) error {
	strict, err := kjson.UnmarshalStrict(j, v)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		return strict[0]
	}
	return nil
}

// TestPatchCopiesIdentical: the plain patch files for kubectl and the ones the
// kustomize Components use are one file in two places (kustomize will not load
// a file outside a Component's directory).
func TestPatchCopiesIdentical(t *testing.T) {
	for _, copies := range [][]string{
		{"manifests/sidecar-patch.yaml", "manifests/component/sidecar-patch.yaml", "manifests/base/sidecar-patch.yaml"},
		{"openshift/sidecar-patch.yaml", "openshift/component/sidecar-patch.yaml", "openshift/base/sidecar-patch.yaml"},
	} {
		for _, c := range copies[1:] {
			if !bytes.Equal(readFile(t, copies[0]), readFile(t, c)) {
				t.Errorf("%s and %s differ; they must be the same file", copies[0], c)
			}
		}
	}
}

// TestRenderedKinds renders each kustomization an operator uses and checks
// what it creates.
func TestRenderedKinds(t *testing.T) {
	for dir, want := range map[string][]string{
		"manifests":                         {"Deployment", "Service"},
		"manifests/overlays/tls":            {"Certificate", "Deployment", "Issuer", "Service"},
		"manifests/overlays/networkpolicy":  {"NetworkPolicy"},
		"openshift":                         {"Deployment", "Route", "Service"},
		"openshift/overlays/reencrypt":      {"Deployment", "Route", "Service"},
		"openshift/overlays/networkpolicy":  {"NetworkPolicy"},
		"deploy/testdata/k8s-sidecar":       {"Deployment", "Service"},
		"deploy/testdata/k8s-tls":           {"Certificate", "Deployment", "Issuer", "Service"},
		"deploy/testdata/k8s-static-auth":   {"Deployment", "Service"},
		"deploy/testdata/k8s-all":           {"Certificate", "Deployment", "Issuer", "NetworkPolicy", "Service"},
		"deploy/testdata/openshift-sidecar": {"Deployment", "Route", "Service"},
		"deploy/testdata/controller":        {"Deployment"},
	} {
		objs := rendered(t, dir)
		if got := kinds(objs); !slices.Equal(got, want) {
			t.Errorf("%s renders %v, want %v", dir, got, want)
		}
		for _, o := range objs {
			if o.Namespace != namespace {
				t.Errorf("%s: %s in namespace %q, want %q", dir, o, o.Namespace, namespace)
			}
		}
	}
}

var variants = map[string]variant{
	"deploy/testdata/k8s-sidecar":       {},
	"deploy/testdata/k8s-tls":           {tls: true},
	"deploy/testdata/k8s-static-auth":   {staticAuth: true},
	"deploy/testdata/k8s-all":           {tls: true, staticAuth: true},
	"deploy/testdata/openshift-sidecar": {openshift: true, tls: true},
}

// TestSidecarWithComponents: the kustomize Components applied to the stand-in
// controller.
func TestSidecarWithComponents(t *testing.T) {
	settings := loadAdapterSettings(t)
	for dir, v := range variants {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			objs := rendered(t, dir)
			d := only[appsv1.Deployment](t, objs, "Deployment")
			assertNone(t, "sidecar", checkSidecar(&d.Spec.Template, v, settings))
			assertNone(t, "controller", checkControllerUntouched(standIn(t), d))
			assertNone(t, "service", checkService(only[corev1.Service](t, objs, "Service"), &d.Spec.Template, v.tls))
			if v.openshift {
				assertNone(t, "scc", checkSCCController(standIn(t), d))
			}
		})
	}
}

// applySMP applies strategic-merge patch files to a Deployment as
// `kubectl patch --patch-file` does (the same apimachinery code).
func applySMP(t testing.TB, d *appsv1.Deployment, files ...string) *appsv1.Deployment {
	t.Helper()
	cur, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		patch, err := yaml.YAMLToJSONStrict(readFile(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if cur, err = strategicpatch.StrategicMergePatch(cur, patch, appsv1.Deployment{}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	var out appsv1.Deployment
	if err := strictInto(cur, &out); err != nil {
		t.Fatalf("patched Deployment: %v", err)
	}
	return &out
}

var kubectlPatches = map[string]struct {
	files []string
	v     variant
}{
	"base":           {[]string{"manifests/sidecar-patch.yaml"}, variant{}},
	"tls":            {[]string{"manifests/sidecar-patch.yaml", "manifests/components/tls/sidecar-tls-patch.yaml"}, variant{tls: true}},
	"static-auth":    {[]string{"manifests/sidecar-patch.yaml", "manifests/components/static-auth/sidecar-static-auth-patch.yaml"}, variant{staticAuth: true}},
	"tls+auth":       {[]string{"manifests/sidecar-patch.yaml", "manifests/components/tls/sidecar-tls-patch.yaml", "manifests/components/static-auth/sidecar-static-auth-patch.yaml"}, variant{tls: true, staticAuth: true}},
	"openshift":      {[]string{"openshift/sidecar-patch.yaml"}, variant{openshift: true, tls: true}},
	"openshift+auth": {[]string{"openshift/sidecar-patch.yaml", "manifests/components/static-auth/sidecar-static-auth-patch.yaml"}, variant{openshift: true, tls: true, staticAuth: true}},
}

// TestKubectlPatch: the plain patch files applied to a running controller
// Deployment, as `kubectl patch --patch-file` applies them.
func TestKubectlPatch(t *testing.T) {
	settings := loadAdapterSettings(t)
	for name, tc := range kubectlPatches {
		t.Run(name, func(t *testing.T) {
			d := applySMP(t, standIn(t), tc.files...)
			assertNone(t, "sidecar", checkSidecar(&d.Spec.Template, tc.v, settings))
			assertNone(t, "controller", checkControllerUntouched(standIn(t), d))
			if tc.v.openshift {
				assertNone(t, "scc", checkSCCController(standIn(t), d))
			}
		})
	}
}

// TestKubectlPatchRemoval: remove-sidecar-patch.yaml gives back exactly the
// controller Deployment as it was, from every variant.
func TestKubectlPatchRemoval(t *testing.T) {
	for name, tc := range kubectlPatches {
		d := applySMP(t, standIn(t), append(slices.Clone(tc.files), "manifests/remove-sidecar-patch.yaml")...)
		// Compared as JSON: an emptied annotation map is not nil, but
		// serialises (and is stored) exactly as the original.
		got, _ := json.Marshal(d)
		want, _ := json.Marshal(standIn(t))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: after removal the Deployment differs from the original:\n%s\nwant\n%s", name, got, want)
		}
	}
}

// TestApplyKustomization: `kubectl apply -k` of a base or overlay merges the
// rendered partial Deployment into the running controller Deployment; the
// result must be the variant's sidecar, and the base's partial Deployment must
// be the plain patch file itself.
func TestApplyKustomization(t *testing.T) {
	settings := loadAdapterSettings(t)
	for dir, tc := range map[string]struct {
		patch string
		v     variant
	}{
		"manifests":                    {"manifests/sidecar-patch.yaml", variant{}},
		"manifests/overlays/tls":       {"", variant{tls: true}},
		"openshift":                    {"openshift/sidecar-patch.yaml", variant{openshift: true, tls: true}},
		"openshift/overlays/reencrypt": {"openshift/sidecar-patch.yaml", variant{openshift: true, tls: true}},
	} {
		partial := only[appsv1.Deployment](t, rendered(t, dir), "Deployment")
		var raw []byte
		for _, o := range rendered(t, dir) {
			if o.Kind == "Deployment" {
				raw = o.JSON
			}
		}
		if partial.Name != controllerName || partial.Namespace != namespace || partial.Spec.Selector != nil || len(partial.Spec.Template.Spec.Containers) != 1 {
			t.Errorf("%s: the rendered Deployment is not the sidecar-only partial of %s/%s", dir, namespace, controllerName)
		}
		if tc.patch != "" {
			o, err := decodeStrict(readFile(t, tc.patch))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(o.Obj)
			got, _ := json.Marshal(partial)
			if !bytes.Equal(got, want) {
				t.Errorf("%s renders a Deployment that differs from %s:\n%s\nwant\n%s", dir, tc.patch, got, want)
			}
		}
		// kubectl apply's client-side three-way merge: no last-applied
		// configuration on a Deployment Helm or the manifests created, the
		// rendered document as sent (not a typed round trip, which would add
		// "selector": null), and the live object.
		cur, _ := json.Marshal(standIn(t))
		meta, err := strategicpatch.NewPatchMetaFromStruct(appsv1.Deployment{})
		if err != nil {
			t.Fatal(err)
		}
		patch, err := strategicpatch.CreateThreeWayMergePatch(nil, raw, cur, meta, true)
		if err != nil {
			t.Fatal(err)
		}
		merged, err := strategicpatch.StrategicMergePatch(cur, patch, appsv1.Deployment{})
		if err != nil {
			t.Fatal(err)
		}
		var d appsv1.Deployment
		if err := strictInto(merged, &d); err != nil {
			t.Fatal(err)
		}
		assertNone(t, dir+" sidecar", checkSidecar(&d.Spec.Template, tc.v, settings))
		assertNone(t, dir+" controller", checkControllerUntouched(standIn(t), &d))
		assertNone(t, dir+" service", checkService(only[corev1.Service](t, rendered(t, dir), "Service"), &d.Spec.Template, tc.v.tls))
	}
}

// normalised is the sidecar container with env and mounts in a fixed order
// (kustomize and kubectl merge lists in different orders).
func normalised(c corev1.Container) corev1.Container {
	c.Env = slices.Clone(c.Env)
	sort.Slice(c.Env, func(i, j int) bool { return c.Env[i].Name < c.Env[j].Name })
	c.VolumeMounts = slices.Clone(c.VolumeMounts)
	sort.Slice(c.VolumeMounts, func(i, j int) bool { return c.VolumeMounts[i].Name < c.VolumeMounts[j].Name })
	return c
}

func sortedVolumes(spec corev1.PodSpec) []corev1.Volume {
	v := slices.Clone(spec.Volumes)
	sort.Slice(v, func(i, j int) bool { return v[i].Name < v[j].Name })
	return v
}

// TestComponentAndPatchAgree: an operator gets the same pod whether the
// sidecar comes from the kustomize Component or from kubectl patch.
func TestComponentAndPatchAgree(t *testing.T) {
	for dir, name := range map[string]string{
		"deploy/testdata/k8s-sidecar":       "base",
		"deploy/testdata/k8s-tls":           "tls",
		"deploy/testdata/k8s-static-auth":   "static-auth",
		"deploy/testdata/openshift-sidecar": "openshift",
	} {
		k := only[appsv1.Deployment](t, rendered(t, dir), "Deployment")
		p := applySMP(t, standIn(t), kubectlPatches[name].files...)
		kc, pc := findContainer(&k.Spec.Template.Spec, sidecarName), findContainer(&p.Spec.Template.Spec, sidecarName)
		if kc == nil || pc == nil || !reflect.DeepEqual(normalised(*kc), normalised(*pc)) {
			t.Errorf("%s: the Component's sidecar differs from kubectl patch's", dir)
		}
		if !reflect.DeepEqual(sortedVolumes(k.Spec.Template.Spec), sortedVolumes(p.Spec.Template.Spec)) ||
			!reflect.DeepEqual(k.Spec.Template.Annotations, p.Spec.Template.Annotations) {
			t.Errorf("%s: the Component's volumes or annotations differ from kubectl patch's", dir)
		}
	}
}

// TestOpenShiftDiffersOnlyWhereDocumented: the OpenShift sidecar is the
// Kubernetes TLS sidecar minus runAsUser, runAsGroup and seccompProfile.
func TestOpenShiftDiffersOnlyWhereDocumented(t *testing.T) {
	k := applySMP(t, standIn(t), kubectlPatches["tls"].files...)
	o := applySMP(t, standIn(t), kubectlPatches["openshift"].files...)
	kc := normalised(*findContainer(&k.Spec.Template.Spec, sidecarName))
	oc := normalised(*findContainer(&o.Spec.Template.Spec, sidecarName))
	sc := *kc.SecurityContext
	sc.RunAsUser, sc.RunAsGroup, sc.SeccompProfile = nil, nil, nil
	kc.SecurityContext = &sc
	if !reflect.DeepEqual(kc, oc) {
		a, _ := json.MarshalIndent(kc, "", " ")
		b, _ := json.MarshalIndent(oc, "", " ")
		t.Errorf("OpenShift sidecar differs from the Kubernetes TLS sidecar beyond the documented fields:\n%s\nvs\n%s", a, b)
	}
	if !reflect.DeepEqual(sortedVolumes(k.Spec.Template.Spec), sortedVolumes(o.Spec.Template.Spec)) {
		t.Error("OpenShift volumes differ from the Kubernetes TLS volumes")
	}
}

// TestServices: the base Service (HTTP), the TLS overlay's and OpenShift's.
func TestServices(t *testing.T) {
	http := only[appsv1.Deployment](t, rendered(t, "deploy/testdata/k8s-sidecar"), "Deployment")
	tls := only[appsv1.Deployment](t, rendered(t, "deploy/testdata/k8s-tls"), "Deployment")
	ocp := only[appsv1.Deployment](t, rendered(t, "deploy/testdata/openshift-sidecar"), "Deployment")
	assertNone(t, "manifests", checkService(only[corev1.Service](t, rendered(t, "manifests"), "Service"), &http.Spec.Template, false))
	assertNone(t, "manifests/overlays/tls", checkService(only[corev1.Service](t, rendered(t, "manifests/overlays/tls"), "Service"), &tls.Spec.Template, true))
	// The plain-file TLS path: kubectl patch --type json on the base Service.
	base := readFile(t, "manifests/component/service.yaml")
	baseJSON, err := yaml.YAMLToJSONStrict(base)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := yaml.YAMLToJSONStrict(readFile(t, "manifests/components/tls/service-tls-patch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	jp, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := jp.Apply(baseJSON)
	if err != nil {
		t.Fatal(err)
	}
	var tlsSvc corev1.Service
	if err := strictInto(patched, &tlsSvc); err != nil {
		t.Fatal(err)
	}
	assertNone(t, "kubectl patch service", checkService(&tlsSvc, &tls.Spec.Template, true))

	svc := only[corev1.Service](t, rendered(t, "openshift"), "Service")
	assertNone(t, "openshift", checkService(svc, &ocp.Spec.Template, true))
	// The service CA writes the Secret the OpenShift sidecar mounts.
	if got, want := svc.Annotations[servingCertKey], tlsSecretName(t, ocp); got != want {
		t.Errorf("OpenShift Service asks for serving certificate %q, the sidecar mounts %q", got, want)
	}
}

func tlsSecretName(t testing.TB, d *appsv1.Deployment) string {
	t.Helper()
	c := findContainer(&d.Spec.Template.Spec, sidecarName)
	m := mountFor(c, envMap(c)["SCANNER_TLS_CERT_FILE"].Value)
	if m == nil {
		t.Fatal("no TLS mount")
	}
	v := findVolume(&d.Spec.Template.Spec, m.Name)
	if v == nil || v.Secret == nil {
		t.Fatal("TLS volume is not a Secret")
	}
	return v.Secret.SecretName
}

// TestCertificate: cert-manager writes the Secret the sidecar mounts, for the
// names Harbor uses to reach the Service, from an issuer that exists.
func TestCertificate(t *testing.T) {
	objs := rendered(t, "manifests/overlays/tls")
	cert := only[certificate](t, objs, "Certificate")
	iss := only[issuer](t, objs, "Issuer")
	d := only[appsv1.Deployment](t, rendered(t, "deploy/testdata/k8s-tls"), "Deployment")
	if got, want := cert.Spec.SecretName, tlsSecretName(t, d); got != want {
		t.Errorf("Certificate writes %q, the sidecar mounts %q", got, want)
	}
	for _, n := range []string{serviceName, serviceName + "." + namespace, serviceName + "." + namespace + ".svc", serviceName + "." + namespace + ".svc.cluster.local"} {
		if !slices.Contains(cert.Spec.DNSNames, n) {
			t.Errorf("Certificate lacks DNS name %s", n)
		}
	}
	if cert.Spec.IssuerRef.Kind != "Issuer" || cert.Spec.IssuerRef.Name != iss.Name {
		t.Errorf("Certificate issuerRef %+v does not name the rendered Issuer %s", cert.Spec.IssuerRef, iss.Name)
	}
	if cert.Spec.PrivateKey == nil || cert.Spec.PrivateKey.RotationPolicy != "Always" {
		t.Error("Certificate does not rotate its private key")
	}
	if !slices.Contains(cert.Spec.Usages, "server auth") {
		t.Error("Certificate lacks the server auth usage")
	}
}

// TestStaticAuthSecretExample: the example Secret has the keys the patch reads.
func TestStaticAuthSecretExample(t *testing.T) {
	o, err := decodeStrict(readFile(t, "manifests/components/static-auth/secret.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sec := o.Obj.(*corev1.Secret)
	d := applySMP(t, standIn(t), kubectlPatches["static-auth"].files...)
	c := findContainer(&d.Spec.Template.Spec, sidecarName)
	for _, e := range c.Env {
		var key string
		switch {
		case strings.HasSuffix(e.Name, "_FILE"):
			key = filepath.Base(e.Value)
			m := mountFor(c, e.Value)
			if v := findVolume(&d.Spec.Template.Spec, m.Name); v == nil || v.Secret == nil || v.Secret.SecretName != sec.Name {
				t.Errorf("%s is not read from Secret %s", e.Name, sec.Name)
			}
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			key = e.ValueFrom.SecretKeyRef.Key
			if e.ValueFrom.SecretKeyRef.Name != sec.Name {
				t.Errorf("%s is not read from Secret %s", e.Name, sec.Name)
			}
		default:
			continue
		}
		if _, ok := sec.StringData[key]; !ok {
			t.Errorf("%s reads key %q, which the example Secret lacks", e.Name, key)
		}
	}
}

// TestNetworkPolicies: Kubernetes and OpenShift variants.
func TestNetworkPolicies(t *testing.T) {
	k := only[appsv1.Deployment](t, rendered(t, "deploy/testdata/k8s-all"), "Deployment")
	o := only[appsv1.Deployment](t, rendered(t, "deploy/testdata/openshift-sidecar"), "Deployment")
	assertNone(t, "manifests", checkNetworkPolicy(only[networkingv1.NetworkPolicy](t, rendered(t, "manifests/overlays/networkpolicy"), "NetworkPolicy"), &k.Spec.Template, false))
	assertNone(t, "k8s-all", checkNetworkPolicy(only[networkingv1.NetworkPolicy](t, rendered(t, "deploy/testdata/k8s-all"), "NetworkPolicy"), &k.Spec.Template, false))
	assertNone(t, "openshift", checkNetworkPolicy(only[networkingv1.NetworkPolicy](t, rendered(t, "openshift/overlays/networkpolicy"), "NetworkPolicy"), &o.Spec.Template, true))
}

// TestRoutes: passthrough by default, reencrypt in the overlay.
func TestRoutes(t *testing.T) {
	for dir, term := range map[string]string{"openshift": "passthrough", "openshift/overlays/reencrypt": "reencrypt"} {
		objs := rendered(t, dir)
		assertNone(t, dir, checkRoute(only[route](t, objs, "Route"), only[corev1.Service](t, objs, "Service"), term))
	}
}

// TestOpsPathsServedByProxy: the probe paths are the ones the adapter's ops
// listener answers (proxy/ops.go, the lead's); a rename there fails here.
func TestOpsPathsServedByProxy(t *testing.T) {
	var src []byte
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "proxy", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src = append(src, b...)
		}
	}
	for _, p := range []string{adapterOpsPaths.Healthz, adapterOpsPaths.Readyz, adapterOpsPaths.Metrics} {
		if !bytes.Contains(src, []byte(`"`+p+`"`)) {
			t.Errorf("proxy/ serves no %q; the probes in manifests/ and openshift/ would fail", p)
		}
	}
}
