package deploy_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// These tests break a copy of a good manifest in one way each and expect the
// check to name the break: a check that cannot fail proves nothing.

func expectProblem(t *testing.T, name string, p problems, want string) {
	t.Helper()
	for _, s := range p {
		if strings.Contains(s, want) {
			return
		}
	}
	t.Errorf("%s: want a problem containing %q, got %q", name, want, p)
}

func sidecarOf(d *appsv1.Deployment) *corev1.Container {
	return findContainer(&d.Spec.Template.Spec, sidecarName)
}

func setEnv(c *corev1.Container, name, value string) {
	for i := range c.Env {
		if c.Env[i].Name == name {
			c.Env[i].Value, c.Env[i].ValueFrom = value, nil
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: name, Value: value})
}

func TestSidecarCheckCatches(t *testing.T) {
	settings := loadAdapterSettings(t)
	good := func(dir string) *appsv1.Deployment {
		return only[appsv1.Deployment](t, rendered(t, dir), "Deployment").DeepCopy()
	}
	k8s, k8sAll, ocp := "deploy/testdata/k8s-sidecar", "deploy/testdata/k8s-all", "deploy/testdata/openshift-sidecar"
	for _, tc := range []struct {
		name, dir string
		break_    func(d *appsv1.Deployment)
		want      string
	}{
		{"no sidecar", k8s, func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers = d.Spec.Template.Spec.Containers[1:] }, "containers named"},
		{"short image", k8s, func(d *appsv1.Deployment) { sidecarOf(d).Image = "neuvector/harbor-scanner-neuvector:0.1.0" }, "not fully qualified"},
		{"descriptive command", k8s, func(d *appsv1.Deployment) { sidecarOf(d).Command = []string{"/usr/local/bin/harbor-scanner-neuvector"} }, "command"},
		{"port on 18500", k8s, func(d *appsv1.Deployment) { sidecarOf(d).Ports[0].ContainerPort = 18500 }, "collides with controller port 18500"},
		{"host port", k8s, func(d *appsv1.Deployment) { sidecarOf(d).Ports[2].HostPort = 8091 }, "hostPort"},
		{"liveness path", k8s, func(d *appsv1.Deployment) { sidecarOf(d).LivenessProbe.HTTPGet.Path = "/health" }, "liveness probe path"},
		{"readiness on API", k8s, func(d *appsv1.Deployment) {
			sidecarOf(d).ReadinessProbe.HTTPGet.Port = intstr.FromString("scanner-http")
		}, "not the ops port"},
		{"readiness https", k8s, func(d *appsv1.Deployment) { sidecarOf(d).ReadinessProbe.HTTPGet.Scheme = corev1.URISchemeHTTPS }, "plain HTTP"},
		{"ops addr moved", k8s, func(d *appsv1.Deployment) { setEnv(sidecarOf(d), "OPS_ADDR", ":9090") }, "OPS_ADDR"},
		{"root allowed", k8s, func(d *appsv1.Deployment) { f := false; sidecarOf(d).SecurityContext.RunAsNonRoot = &f }, "runAsNonRoot"},
		{"escalation", k8s, func(d *appsv1.Deployment) { sidecarOf(d).SecurityContext.AllowPrivilegeEscalation = nil }, "allowPrivilegeEscalation"},
		{"writable root", k8s, func(d *appsv1.Deployment) { f := false; sidecarOf(d).SecurityContext.ReadOnlyRootFilesystem = &f }, "readOnlyRootFilesystem"},
		{"caps kept", k8s, func(d *appsv1.Deployment) { sidecarOf(d).SecurityContext.Capabilities.Drop = nil }, "capabilities"},
		{"no seccomp", k8s, func(d *appsv1.Deployment) { sidecarOf(d).SecurityContext.SeccompProfile = nil }, "seccompProfile"},
		{"root uid", k8s, func(d *appsv1.Deployment) { u := int64(0); sidecarOf(d).SecurityContext.RunAsUser = &u }, "runAsUser"},
		{"openshift uid", ocp, func(d *appsv1.Deployment) { u := int64(65532); sidecarOf(d).SecurityContext.RunAsUser = &u }, "runAsUser"},
		{"openshift seccomp", ocp, func(d *appsv1.Deployment) {
			sidecarOf(d).SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
		}, "seccompProfile"},
		{"memlimit above limit", k8s, func(d *appsv1.Deployment) { setEnv(sidecarOf(d), "GOMEMLIMIT", "600MiB") }, "95%"},
		{"memlimit near cache", k8s, func(d *appsv1.Deployment) { setEnv(sidecarOf(d), "GOMEMLIMIT", "300MiB") }, "above CACHE_MAX_BYTES"},
		{"no memory limit", k8s, func(d *appsv1.Deployment) { delete(sidecarOf(d).Resources.Limits, corev1.ResourceMemory) }, "memory limit"},
		{"request above limit", k8s, func(d *appsv1.Deployment) {
			sidecarOf(d).Resources.Requests[corev1.ResourceMemory] = resource.MustParse("1Gi")
		}, "above limit"},
		{"insecure remote controller", k8s, func(d *appsv1.Deployment) {
			setEnv(sidecarOf(d), "CONTROLLER_URL", "https://neuvector-svc-controller.neuvector:10443")
		}, "not on the pod's loopback"},
		{"unknown variable", k8s, func(d *appsv1.Deployment) { setEnv(sidecarOf(d), "SCANNER_LISTEN", ":8090") }, "not a setting of the adapter"},
		{"file for a non-secret", k8s, func(d *appsv1.Deployment) { setEnv(sidecarOf(d), "LOG_LEVEL_FILE", "/x") }, "not a setting"},
		{"old adapter healthz", k8s, func(d *appsv1.Deployment) { setEnv(sidecarOf(d), "AUTO_INTERNAL_CERT", "1") }, "AUTO_INTERNAL_CERT"},
		{"inline secret", k8s, func(d *appsv1.Deployment) { setEnv(sidecarOf(d), "CONTROLLER_API_KEY", "k:s") }, "inline"},
		{"wrong proto", k8s, func(d *appsv1.Deployment) { setEnv(sidecarOf(d), "HARBOR_SERVER_PROTO", "https") }, "HARBOR_SERVER_PROTO"},
		{"duplicate env", k8s, func(d *appsv1.Deployment) {
			c := sidecarOf(d)
			c.Env = append(c.Env, c.Env[0])
		}, "duplicate env"},
		{"tls subPath", k8sAll, func(d *appsv1.Deployment) {
			c := sidecarOf(d)
			for i := range c.VolumeMounts {
				if strings.HasSuffix(c.VolumeMounts[i].Name, "-tls") {
					c.VolumeMounts[i].SubPath = "tls.crt"
				}
			}
		}, "subPath"},
		{"tls under controller certs", k8sAll, func(d *appsv1.Deployment) {
			c := sidecarOf(d)
			for i := range c.VolumeMounts {
				if strings.HasSuffix(c.VolumeMounts[i].Name, "-tls") {
					c.VolumeMounts[i].MountPath = "/etc/neuvector/certs"
				}
			}
			setEnv(c, "SCANNER_TLS_CERT_FILE", "/etc/neuvector/certs/tls.crt")
		}, "/etc/neuvector/"},
		{"secret file unreadable", k8sAll, func(d *appsv1.Deployment) {
			m := int32(0o440)
			for i := range d.Spec.Template.Spec.Volumes {
				if s := d.Spec.Template.Spec.Volumes[i].Secret; s != nil && s.SecretName != "neuvector-controller-secret" {
					s.DefaultMode = &m
				}
			}
		}, "arbitrary UID"},
		{"writable mount", k8sAll, func(d *appsv1.Deployment) { sidecarOf(d).VolumeMounts[0].ReadOnly = false }, "not read-only"},
		{"controller volume shared", k8s, func(d *appsv1.Deployment) {
			sidecarOf(d).VolumeMounts = append(sidecarOf(d).VolumeMounts, corev1.VolumeMount{Name: "cert", MountPath: "/c", ReadOnly: true})
		}, "shared with container"},
		{"file env outside mounts", k8sAll, func(d *appsv1.Deployment) {
			setEnv(sidecarOf(d), "CONTROLLER_API_KEY_FILE", "/var/run/key")
		}, "not under any volume mount"},
		{"default container", k8s, func(d *appsv1.Deployment) { delete(d.Spec.Template.Annotations, defaultContainerKey) }, defaultContainerKey},
	} {
		d := good(tc.dir)
		tc.break_(d)
		v := variants[tc.dir]
		expectProblem(t, tc.name, checkSidecar(&d.Spec.Template, v, settings), tc.want)
	}
}

func TestControllerUntouchedCatches(t *testing.T) {
	for name, tc := range map[string]struct {
		break_ func(d *appsv1.Deployment)
		want   string
	}{
		"controller image": {func(d *appsv1.Deployment) { findContainer(&d.Spec.Template.Spec, controllerName).Image = "x" }, "controller container"},
		"volume dropped":   {func(d *appsv1.Deployment) { d.Spec.Template.Spec.Volumes = d.Spec.Template.Spec.Volumes[:1] }, "controller volume"},
		"host network":     {func(d *appsv1.Deployment) { d.Spec.Template.Spec.HostNetwork = true }, "pod-level"},
		"replicas":         {func(d *appsv1.Deployment) { r := int32(1); d.Spec.Replicas = &r }, "outside the pod template"},
		"labels":           {func(d *appsv1.Deployment) { d.Spec.Template.Labels["app"] = "x" }, "labels"},
	} {
		d := only[appsv1.Deployment](t, rendered(t, "deploy/testdata/k8s-sidecar"), "Deployment").DeepCopy()
		tc.break_(d)
		expectProblem(t, name, checkControllerUntouched(standIn(t), d), tc.want)
	}
}

func TestServiceCheckCatches(t *testing.T) {
	tmpl := &only[appsv1.Deployment](t, rendered(t, "deploy/testdata/k8s-sidecar"), "Deployment").Spec.Template
	for name, tc := range map[string]struct {
		break_ func(s *corev1.Service)
		want   string
	}{
		"old adapter selector": {func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "neuvector-registry-adapter-pod"} }, "does not select"},
		"empty selector":       {func(s *corev1.Service) { s.Spec.Selector = nil }, "does not select"},
		"numeric target":       {func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromInt32(8090) }, "named port"},
		"ops exposed":          {func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("scanner-ops") }, "targetPort"},
		"controller port":      {func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("rest") }, "not a port of the sidecar"},
		"https port on http":   {func(s *corev1.Service) { s.Spec.Ports[0].Port = 9443 }, "want registry-adapter 8090"},
		"renamed":              {func(s *corev1.Service) { s.Name = "harbor-scanner" }, "Service neuvector/harbor-scanner"},
		"node port":            {func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }, "ClusterIP"},
		"tls target on http":   {func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("scanner-https") }, "want the sidecar's named port scanner-http"},
	} {
		s := only[corev1.Service](t, rendered(t, "manifests"), "Service").DeepCopy()
		tc.break_(s)
		expectProblem(t, name, checkService(s, tmpl, false), tc.want)
	}
}

func TestNetworkPolicyCheckCatches(t *testing.T) {
	tmpl := &only[appsv1.Deployment](t, rendered(t, "deploy/testdata/k8s-all"), "Deployment").Spec.Template
	dropPort := func(port int32, proto corev1.Protocol) func(np *networkingv1.NetworkPolicy) {
		return func(np *networkingv1.NetworkPolicy) {
			r := &np.Spec.Ingress[0]
			var kept []networkingv1.NetworkPolicyPort
			for _, p := range r.Ports {
				if p.Port.IntVal != port || *p.Protocol != proto {
					kept = append(kept, p)
				}
			}
			r.Ports = kept
		}
	}
	for name, tc := range map[string]struct {
		break_ func(np *networkingv1.NetworkPolicy)
		want   string
	}{
		"serf udp": {dropPort(18301, corev1.ProtocolUDP), "18301/UDP is not admitted"},
		"webhook":  {dropPort(20443, corev1.ProtocolTCP), "20443/TCP is not admitted"},
		"grpc":     {dropPort(18400, corev1.ProtocolTCP), "18400/TCP"},
		"ops":      {dropPort(opsPort, corev1.ProtocolTCP), "8091/TCP is not admitted"},
		"api open": {func(np *networkingv1.NetworkPolicy) { np.Spec.Ingress[1].From = nil }, "admitted from anywhere"},
		"api in rule 0": {func(np *networkingv1.NetworkPolicy) {
			tcp := corev1.ProtocolTCP
			p := intstr.FromInt32(httpPort)
			np.Spec.Ingress[0].Ports = append(np.Spec.Ingress[0].Ports, networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: &p})
		}, "8090/TCP is admitted from anywhere"},
		"ip block": {func(np *networkingv1.NetworkPolicy) {
			np.Spec.Ingress[1].From = append(np.Spec.Ingress[1].From, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}})
		}, "admitted from"},
		"all namespaces": {func(np *networkingv1.NetworkPolicy) {
			np.Spec.Ingress[1].From[0].NamespaceSelector = &metav1.LabelSelector{}
		}, "not admitted from Harbor"},
		"egress": {func(np *networkingv1.NetworkPolicy) {
			np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}, "policyTypes"},
		"wrong pods": {func(np *networkingv1.NetworkPolicy) {
			np.Spec.PodSelector.MatchLabels = map[string]string{"app": "harbor"}
		}, "podSelector"},
		"all pods":   {func(np *networkingv1.NetworkPolicy) { np.Spec.PodSelector = metav1.LabelSelector{} }, "podSelector"},
		"udp as tcp": {func(np *networkingv1.NetworkPolicy) { np.Spec.Ingress[0].Ports[3].Protocol = nil }, "18300/UDP"},
		"other ns":   {func(np *networkingv1.NetworkPolicy) { np.Namespace = "default" }, "namespace"},
	} {
		np := only[networkingv1.NetworkPolicy](t, rendered(t, "manifests/overlays/networkpolicy"), "NetworkPolicy").DeepCopy()
		tc.break_(np)
		expectProblem(t, name, checkNetworkPolicy(np, tmpl, false), tc.want)
	}
	// OpenShift: without the router the Route stops working.
	otmpl := &only[appsv1.Deployment](t, rendered(t, "deploy/testdata/openshift-sidecar"), "Deployment").Spec.Template
	np := only[networkingv1.NetworkPolicy](t, rendered(t, "manifests/overlays/networkpolicy"), "NetworkPolicy").DeepCopy()
	expectProblem(t, "openshift without router", checkNetworkPolicy(np, otmpl, true), "router")
}

func TestRouteCheckCatches(t *testing.T) {
	objs := rendered(t, "openshift")
	svc := only[corev1.Service](t, objs, "Service")
	for name, tc := range map[string]struct {
		break_ func(r *route)
		want   string
	}{
		"edge":                {func(r *route) { r.Spec.TLS.Termination = "edge" }, "termination"},
		"no tls":              {func(r *route) { r.Spec.TLS = nil }, "without TLS"},
		"port number":         {func(r *route) { r.Spec.Port.TargetPort = intstr.FromInt32(9443) }, "Service port name"},
		"other svc":           {func(r *route) { r.Spec.To.Name = "neuvector-service-webui" }, "Route to"},
		"cert on passthrough": {func(r *route) { r.Spec.TLS.Certificate = "-----BEGIN CERTIFICATE-----" }, "cannot use"},
		"renamed":             {func(r *route) { r.Name = "harbor-scanner" }, "Route neuvector/harbor-scanner"},
	} {
		r := *only[route](t, objs, "Route")
		tls := *r.Spec.TLS
		r.Spec.TLS = &tls
		port := *r.Spec.Port
		r.Spec.Port = &port
		tc.break_(&r)
		expectProblem(t, name, checkRoute(&r, svc, "passthrough"), tc.want)
	}
	reenc := *only[route](t, rendered(t, "openshift/overlays/reencrypt"), "Route")
	tls := *reenc.Spec.TLS
	tls.DestinationCACertificate = "-----BEGIN CERTIFICATE-----"
	reenc.Spec.TLS = &tls
	expectProblem(t, "reencrypt with own CA", checkRoute(&reenc, svc, "reencrypt"), "service serving certificate")
}

func TestSCCCheckCatches(t *testing.T) {
	for name, tc := range map[string]struct {
		break_ func(d *appsv1.Deployment)
		want   string
	}{
		"seccomp": {func(d *appsv1.Deployment) {
			sidecarOf(d).SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
		}, "seccompProfile"},
		"hostPath": {func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Volumes = append(d.Spec.Template.Spec.Volumes, corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
		}, "hostPath is not allowed"},
		"capability": {func(d *appsv1.Deployment) {
			sidecarOf(d).SecurityContext.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
		}, "capabilities added"},
		"no drop":    {func(d *appsv1.Deployment) { sidecarOf(d).SecurityContext.Capabilities = nil }, "drop ALL"},
		"privileged": {func(d *appsv1.Deployment) { b := true; sidecarOf(d).SecurityContext.Privileged = &b }, "privileged"},
		"escalation": {func(d *appsv1.Deployment) { b := true; sidecarOf(d).SecurityContext.AllowPrivilegeEscalation = &b }, "allowPrivilegeEscalation"},
		"host port":  {func(d *appsv1.Deployment) { sidecarOf(d).Ports[1].HostPort = 9443 }, "host port"},
		"uid":        {func(d *appsv1.Deployment) { u := int64(1000); sidecarOf(d).SecurityContext.RunAsUser = &u }, "runAsUser"},
		"pod seccomp": {func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.SecurityContext = &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
		}, "pod securityContext"},
	} {
		d := only[appsv1.Deployment](t, rendered(t, "deploy/testdata/openshift-sidecar"), "Deployment").DeepCopy()
		tc.break_(d)
		expectProblem(t, name, checkSCCController(standIn(t), d), tc.want)
	}
	// The Kubernetes variant, with its seccompProfile, would not be admitted.
	k := only[appsv1.Deployment](t, rendered(t, "deploy/testdata/k8s-tls"), "Deployment")
	expectProblem(t, "kubernetes variant on OpenShift", checkSCCController(standIn(t), k), "seccompProfile")
}

func TestDockerfileCheckCatches(t *testing.T) {
	good := string(readFile(t, "Dockerfile"))
	goVer := goModVersion(t)
	for name, tc := range map[string]struct{ old, new, want string }{
		"root user":         {"USER 65532:65532", "USER 0", "non-root"},
		"named user":        {"USER 65532:65532", "USER nonroot", "numeric non-root"},
		"no user":           {"USER 65532:65532", "", "numeric non-root"},
		"emulated build":    {"FROM --platform=$BUILDPLATFORM golang", "FROM golang", "$BUILDPLATFORM"},
		"no target arch":    {"GOARCH=${TARGETARCH}", "", "GOARCH=${TARGETARCH}"},
		"no target arg":     {"ARG TARGETARCH\n", "", "ARG TARGETARCH"},
		"cgo":               {"CGO_ENABLED=0 ", "", "CGO_ENABLED=0"},
		"old go":            {"ARG GO_VERSION=" + goVer, "ARG GO_VERSION=1.20", "golang:" + goVer},
		"other name":        {"-o /out/usr/local/bin/adapter ./cmd", "-o /out/usr/local/bin/harbor-scanner-neuvector ./cmd", "-o /out/usr/local/bin/adapter"},
		"no link":           {"ln /out/usr/local/bin/adapter", "cp /out/usr/local/bin/adapter", "hard-link"},
		"fat final":         {"FROM gcr.io/distroless/static-debian12:nonroot", "FROM debian:12", "distroless"},
		"run in final":      {"COPY --from=build /out/ /", "COPY --from=build /out/ /\nRUN chmod 0555 /usr/local/bin/adapter", "no shell"},
		"shell entrypoint":  {`ENTRYPOINT ["/usr/local/bin/adapter"]`, "ENTRYPOINT /usr/local/bin/adapter", "ENTRYPOINT"},
		"descriptive entry": {`ENTRYPOINT ["/usr/local/bin/adapter"]`, `ENTRYPOINT ["/usr/local/bin/harbor-scanner-neuvector"]`, "ENTRYPOINT"},
		"no ops port":       {"EXPOSE 8090 9443 8091", "EXPOSE 8090 9443", "8091 not exposed"},
		"no role":           {`neuvector.role="registry-adapter"`, `neuvector.role="controller"`, "neuvector.role"},
		"fixed version":     {`org.opencontainers.image.version="${VERSION}"`, `org.opencontainers.image.version="1.0"`, "label version"},
		"no licence":        {`org.opencontainers.image.licenses="Apache-2.0" \`, `\`, "licenses missing"},
		"single stage":      {"FROM gcr.io/distroless/static-debian12:nonroot", "", "stages"},
		"stage casing":      {"golang:${GO_VERSION} AS build", "golang:${GO_VERSION} as build", "lint FromAsCasing"},
		"deprecated":        {"ARG TARGETOS\n", "ARG TARGETOS\nMAINTAINER someone\n", "lint MaintainerDeprecated"},
	} {
		if !strings.Contains(good, tc.old) {
			t.Fatalf("%s: the Dockerfile no longer contains %q; update the mutation", name, tc.old)
		}
		broken := strings.Replace(good, tc.old, tc.new, 1)
		expectProblem(t, name, checkDockerfile([]byte(broken), goVer), tc.want)
	}
}

func TestStrictDecodeCatches(t *testing.T) {
	good := readFile(t, "manifests/sidecar-patch.yaml")
	if _, err := decodeStrict(good); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ old, new string }{
		"misspelt field":  {"readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true"},
		"wrong case":      {"runAsNonRoot: true", "RunAsNonRoot: true"},
		"duplicate field": {"privileged: false", "privileged: false\n            privileged: true"},
		"invented field":  {"terminationMessagePolicy: FallbackToLogsOnError", "terminationMessagePolicy: FallbackToLogsOnError\n          restartPolicyy: Always"},
		"wrong type":      {"containerPort: 8090", "containerPort: \"8090\""},
		"unknown kind":    {"kind: Deployment", "kind: Deploymnet"},
	} {
		if !bytes.Contains(good, []byte(tc.old)) {
			t.Fatalf("%s: the patch no longer contains %q", name, tc.old)
		}
		if _, err := decodeStrict(bytes.Replace(good, []byte(tc.old), []byte(tc.new), 1)); err == nil {
			t.Errorf("%s: strict decoding accepted the broken patch", name)
		}
	}
	if err := decodeFile("kustomization.yaml", []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresource:\n  - x.yaml\n")); err == nil {
		t.Error("a misspelt kustomization field was accepted")
	}
	if err := decodeFile("p.yaml", []byte("- op: replace\n  pathh: /spec\n")); err == nil {
		t.Error("a misspelt JSON patch field was accepted")
	}
}

// copyTree copies the deployment files to dir, keeping the layout the
// kustomizations' relative paths need.
func copyTree(t *testing.T, dir string) {
	t.Helper()
	root := repoRoot(t)
	for _, sub := range []string{"manifests", "openshift", "deploy/testdata"} {
		err := filepath.Walk(filepath.Join(root, sub), func(path string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			dst := filepath.Join(dir, rel)
			if info.IsDir() {
				return os.MkdirAll(dst, 0o755)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s no longer contains %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrokenFilesFailThePipeline: a broken file on disk fails the whole path
// (render, strict decode, checks), not only a hand-made object.
func TestBrokenFilesFailThePipeline(t *testing.T) {
	settings := loadAdapterSettings(t)
	dir := t.TempDir()
	copyTree(t, dir)
	edit(t, filepath.Join(dir, "manifests/component/sidecar-patch.yaml"), "containerPort: 8090", "containerPort: 18500")
	edit(t, filepath.Join(dir, "manifests/component/service.yaml"), "app: neuvector-controller-pod", "app: neuvector-registry-adapter-pod")
	edit(t, filepath.Join(dir, "openshift/component/sidecar-patch.yaml"), "runAsNonRoot: true", "runAsNonRoot: true\n            runAsUser: 1000")
	edit(t, filepath.Join(dir, "manifests/components/networkpolicy/networkpolicy.yaml"), "{protocol: UDP, port: 18301}", "{protocol: TCP, port: 18302}")

	objs, err := decodeAll(renderAbs(t, filepath.Join(dir, "deploy/testdata/k8s-all")))
	if err != nil {
		t.Fatal(err)
	}
	d := only[appsv1.Deployment](t, objs, "Deployment")
	expectProblem(t, "port", checkSidecar(&d.Spec.Template, variant{tls: true, staticAuth: true}, settings), "collides with controller port 18500")
	expectProblem(t, "selector", checkService(only[corev1.Service](t, objs, "Service"), &d.Spec.Template, true), "does not select")
	expectProblem(t, "networkpolicy", checkNetworkPolicy(only[networkingv1.NetworkPolicy](t, objs, "NetworkPolicy"), &d.Spec.Template, false), "18301/UDP")

	oobjs, err := decodeAll(renderAbs(t, filepath.Join(dir, "deploy/testdata/openshift-sidecar")))
	if err != nil {
		t.Fatal(err)
	}
	od := only[appsv1.Deployment](t, oobjs, "Deployment")
	expectProblem(t, "openshift uid", checkSCCController(standIn(t), od), "runAsUser")

	// A misspelt field survives kustomize but not strict decoding.
	edit(t, filepath.Join(dir, "manifests/component/sidecar-patch.yaml"), "readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true")
	if _, err := decodeAll(renderAbs(t, filepath.Join(dir, "deploy/testdata/k8s-sidecar"))); err == nil {
		t.Error("a misspelt securityContext field rendered and decoded without error")
	}
}
