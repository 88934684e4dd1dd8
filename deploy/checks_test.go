package deploy_test

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Each check returns the problems it finds, so that the tests can both assert
// "none" on the real manifests and "this one" on a deliberately broken copy.

type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// variant is one way of deploying the sidecar.
type variant struct {
	openshift  bool // openshift/: no runAsUser, no seccompProfile, HTTPS
	tls        bool // HTTPS on 9443
	staticAuth bool // components/static-auth
}

func findContainer(spec *corev1.PodSpec, name string) *corev1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	return nil
}

func envMap(c *corev1.Container) map[string]corev1.EnvVar {
	m := make(map[string]corev1.EnvVar, len(c.Env))
	for _, e := range c.Env {
		m[e.Name] = e
	}
	return m
}

// expectedEnv is what the sidecar's literal env values must be.
func expectedEnv(v variant) map[string]string {
	env := map[string]string{
		"SCANNER_API_ADDR":        fmt.Sprintf(":%d", httpPort),
		"HARBOR_SERVER_PROTO":     "http",
		"OPS_ADDR":                fmt.Sprintf(":%d", opsPort),
		"CONTROLLER_URL":          "https://127.0.0.1:10443",
		"CONTROLLER_TLS_INSECURE": "true",
		"SCANNER_AUTH":            "passthrough",
		"CACHE_MAX_BYTES":         "256MiB",
		"GOMEMLIMIT":              "460MiB",
		"LOG_LEVEL":               "info",
	}
	if v.tls || v.openshift {
		env["SCANNER_API_ADDR"] = fmt.Sprintf(":%d", httpsPort)
		env["HARBOR_SERVER_PROTO"] = "https"
		env["SCANNER_TLS_CERT_FILE"] = "/etc/harbor-scanner-neuvector/tls/tls.crt"
		env["SCANNER_TLS_KEY_FILE"] = "/etc/harbor-scanner-neuvector/tls/tls.key"
	}
	if v.staticAuth {
		env["SCANNER_AUTH"] = "basic"
		env["HARBOR_BASIC_AUTH_PASSWORD_FILE"] = "/etc/harbor-scanner-neuvector/auth/password"
		env["CONTROLLER_API_KEY_FILE"] = "/etc/harbor-scanner-neuvector/auth/controller-api-key"
	}
	return env
}

// portByRef resolves a probe's or Service's port (name or number) against a
// container's declared ports.
func portByRef(c *corev1.Container, ref intstr.IntOrString) (corev1.ContainerPort, bool) {
	for _, p := range c.Ports {
		if (ref.Type == intstr.String && p.Name == ref.StrVal) || (ref.Type == intstr.Int && p.ContainerPort == ref.IntVal) {
			return p, true
		}
	}
	return corev1.ContainerPort{}, false
}

// mountFor is the sidecar's volume mount that contains path.
func mountFor(c *corev1.Container, path string) *corev1.VolumeMount {
	for i, m := range c.VolumeMounts {
		if strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func findVolume(spec *corev1.PodSpec, name string) *corev1.Volume {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

// checkSidecar checks the sidecar container in the rendered controller pod.
func checkSidecar(tmpl *corev1.PodTemplateSpec, v variant, settings adapterSettings) problems {
	var p problems
	spec := &tmpl.Spec
	n := 0
	for _, c := range spec.Containers {
		if c.Name == sidecarName {
			n++
		}
	}
	if n != 1 {
		p.add("pod has %d containers named %s, want 1", n, sidecarName)
		return p
	}
	c := findContainer(spec, sidecarName)
	if findContainer(spec, controllerName) == nil {
		p.add("controller container %s is missing", controllerName)
	}
	if got := tmpl.Annotations[defaultContainerKey]; got != controllerName {
		p.add("annotation %s = %q, want %q (kubectl logs/exec default to the controller)", defaultContainerKey, got, controllerName)
	}

	// Image and entry command.
	if c.Image != sidecarImage {
		p.add("image %q, want %q", c.Image, sidecarImage)
	}
	if host, _, _ := strings.Cut(c.Image, "/"); !strings.ContainsAny(host, ".:") {
		p.add("image %q is not fully qualified (CRI-O refuses short names)", c.Image)
	}
	if !slices.Equal(c.Command, []string{adapterCommand}) || !slices.Equal(c.Args, []string{"serve"}) {
		p.add("command %q args %q, want [%s] [serve]", c.Command, c.Args, adapterCommand)
	}

	// Env: the expected values, only variables the adapter (or Go) knows, no
	// inline secrets, no AUTO_INTERNAL_CERT (its healthz server needs 18500,
	// which the controller holds).
	env := envMap(c)
	if len(env) != len(c.Env) {
		p.add("duplicate env names in %v", c.Env)
	}
	for k, want := range expectedEnv(v) {
		if got, ok := env[k]; !ok || got.Value != want || got.ValueFrom != nil {
			p.add("env %s = %q (set %v), want %q", k, got.Value, ok, want)
		}
	}
	if _, ok := env["AUTO_INTERNAL_CERT"]; ok {
		p.add("env AUTO_INTERNAL_CERT set: the old adapter's healthz server would claim 18500")
	}
	for _, e := range c.Env {
		base, isFile := strings.CutSuffix(e.Name, "_FILE")
		switch {
		case settings.known[e.Name] || runtimeEnv[e.Name]:
		case isFile && settings.secret[base]:
		default:
			p.add("env %s is not a setting of the adapter", e.Name)
		}
		if settings.secret[e.Name] && e.Value != "" {
			p.add("env %s carries a secret inline; use %s_FILE or a secretKeyRef", e.Name, e.Name)
		}
		if isFile && mountFor(c, e.Value) == nil {
			p.add("env %s = %q is not under any volume mount of the sidecar", e.Name, e.Value)
		}
	}
	if v.staticAuth {
		u := env["HARBOR_BASIC_AUTH_USERNAME"]
		if u.ValueFrom == nil || u.ValueFrom.SecretKeyRef == nil || u.ValueFrom.SecretKeyRef.Key != "username" {
			p.add("env HARBOR_BASIC_AUTH_USERNAME should come from the auth Secret's username key")
		}
	}
	if env["CONTROLLER_TLS_INSECURE"].Value == "true" {
		u, err := url.Parse(env["CONTROLLER_URL"].Value)
		if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "::1" && u.Hostname() != "localhost") {
			p.add("CONTROLLER_TLS_INSECURE=true for a controller that is not on the pod's loopback (%q)", env["CONTROLLER_URL"].Value)
		}
	}

	// Ports: declared, named, never a host port, never one of the
	// controller's or another container's.
	wantPorts := map[string]int32{"scanner-http": httpPort, "scanner-https": httpsPort, "scanner-ops": opsPort}
	for _, cp := range c.Ports {
		if want, ok := wantPorts[cp.Name]; !ok || want != cp.ContainerPort {
			p.add("sidecar port %s=%d unexpected", cp.Name, cp.ContainerPort)
		}
		delete(wantPorts, cp.Name)
		if cp.HostPort != 0 {
			p.add("sidecar port %d uses hostPort %d", cp.ContainerPort, cp.HostPort)
		}
		for _, cport := range controllerPorts {
			if cport.Port == cp.ContainerPort {
				p.add("sidecar port %d collides with controller port %s", cp.ContainerPort, cport)
			}
		}
		for _, other := range spec.Containers {
			if other.Name == sidecarName {
				continue
			}
			for _, op := range other.Ports {
				if op.ContainerPort == cp.ContainerPort {
					p.add("sidecar port %d collides with container %s", cp.ContainerPort, other.Name)
				}
			}
		}
	}
	for name := range wantPorts {
		p.add("sidecar port %s missing", name)
	}
	apiPort, err := addrPort(env["SCANNER_API_ADDR"].Value)
	wantAPIName := "scanner-http"
	if env["HARBOR_SERVER_PROTO"].Value == "https" {
		wantAPIName = "scanner-https"
	}
	if got, ok := portByRef(c, intstr.FromString(wantAPIName)); err != nil || !ok || got.ContainerPort != apiPort {
		p.add("SCANNER_API_ADDR %q is not the declared port %s", env["SCANNER_API_ADDR"].Value, wantAPIName)
	}
	ops, err := addrPort(env["OPS_ADDR"].Value)
	if got, ok := portByRef(c, intstr.FromString("scanner-ops")); err != nil || !ok || got.ContainerPort != ops {
		p.add("OPS_ADDR %q is not the declared port scanner-ops", env["OPS_ADDR"].Value)
	}

	// Probes: on the ops listener, at paths the adapter serves.
	probe := func(kind string, pr *corev1.Probe, path string) {
		if pr == nil || pr.HTTPGet == nil {
			p.add("%s probe is not an httpGet probe", kind)
			return
		}
		if pr.HTTPGet.Path != path {
			p.add("%s probe path %q, want %q", kind, pr.HTTPGet.Path, path)
		}
		if pr.HTTPGet.Scheme != "" && pr.HTTPGet.Scheme != corev1.URISchemeHTTP {
			p.add("%s probe scheme %s: the ops listener is plain HTTP", kind, pr.HTTPGet.Scheme)
		}
		if got, ok := portByRef(c, pr.HTTPGet.Port); !ok || got.ContainerPort != ops {
			p.add("%s probe port %s is not the ops port %d", kind, pr.HTTPGet.Port.String(), ops)
		}
	}
	probe("liveness", c.LivenessProbe, adapterOpsPaths.Healthz)
	probe("readiness", c.ReadinessProbe, adapterOpsPaths.Readyz)

	// securityContext.
	sc := c.SecurityContext
	if sc == nil {
		p.add("no securityContext")
		sc = &corev1.SecurityContext{}
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	isFalse := func(b *bool) bool { return b != nil && !*b }
	if !isTrue(sc.RunAsNonRoot) {
		p.add("securityContext.runAsNonRoot is not true")
	}
	if !isFalse(sc.AllowPrivilegeEscalation) {
		p.add("securityContext.allowPrivilegeEscalation is not false")
	}
	if isTrue(sc.Privileged) {
		p.add("securityContext.privileged is true")
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		p.add("securityContext.readOnlyRootFilesystem is not true")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		p.add("securityContext.capabilities: want drop [ALL] and nothing added, got %+v", sc.Capabilities)
	}
	if v.openshift {
		if sc.RunAsUser != nil || sc.RunAsGroup != nil {
			p.add("OpenShift variant sets runAsUser/runAsGroup; the SCC assigns or admits the image's user")
		}
		if sc.SeccompProfile != nil {
			p.add("OpenShift variant sets seccompProfile, which neuvector-scc-controller rejects")
		}
	} else {
		if sc.RunAsUser == nil || *sc.RunAsUser != nonRootUID {
			p.add("securityContext.runAsUser is not %d", nonRootUID)
		}
		if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			p.add("securityContext.seccompProfile is not RuntimeDefault")
		}
	}

	// Memory: a limit that covers the cache budget plus decoding headroom,
	// with GOMEMLIMIT between them.
	limit, hasLimit := c.Resources.Limits[corev1.ResourceMemory]
	request, hasRequest := c.Resources.Requests[corev1.ResourceMemory]
	if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok || !hasRequest || !hasLimit {
		p.add("resources: want cpu and memory requests and a memory limit, got %+v", c.Resources)
	} else {
		memLimit, err1 := parseBytes(env["GOMEMLIMIT"].Value)
		cache, err2 := parseBytes(env["CACHE_MAX_BYTES"].Value)
		switch {
		case err1 != nil || err2 != nil:
			p.add("GOMEMLIMIT %q / CACHE_MAX_BYTES %q do not parse", env["GOMEMLIMIT"].Value, env["CACHE_MAX_BYTES"].Value)
		case memLimit >= limit.Value()*95/100:
			p.add("GOMEMLIMIT %d is not below 95%% of limits.memory %d", memLimit, limit.Value())
		case memLimit < cache+minDecodeHeadroom:
			p.add("GOMEMLIMIT %d leaves less than %d above CACHE_MAX_BYTES %d", memLimit, minDecodeHeadroom, cache)
		}
		if request.Cmp(limit) > 0 {
			p.add("memory request %s above limit %s", request.String(), limit.String())
		}
		if request.Value() < cache {
			p.add("memory request %s below the cache budget %d", request.String(), cache)
		}
	}

	// Volumes: read-only, the sidecar's own (never a volume of the
	// controller's), TLS material in a secret mounted as a directory away from
	// the controller's certificate paths, so that rotation reaches the adapter.
	for _, m := range c.VolumeMounts {
		if !m.ReadOnly {
			p.add("volume mount %s is not read-only", m.Name)
		}
		vol := findVolume(spec, m.Name)
		if vol == nil {
			p.add("volume mount %s has no volume", m.Name)
			continue
		}
		if vol.Secret != nil && (vol.Secret.DefaultMode == nil || *vol.Secret.DefaultMode&0o004 == 0) {
			p.add("secret volume %s is not readable by an arbitrary UID (defaultMode)", m.Name)
		}
		for _, other := range spec.Containers {
			if other.Name == sidecarName {
				continue
			}
			for _, om := range other.VolumeMounts {
				if om.Name == m.Name {
					p.add("volume %s is shared with container %s", m.Name, other.Name)
				}
			}
		}
	}
	if env["HARBOR_SERVER_PROTO"].Value == "https" {
		for _, k := range []string{"SCANNER_TLS_CERT_FILE", "SCANNER_TLS_KEY_FILE"} {
			f := env[k].Value
			m := mountFor(c, f)
			switch {
			case m == nil:
				p.add("%s %q is not under a volume mount", k, f)
			case m.SubPath != "":
				p.add("%s is mounted with subPath: certificate renewals would never reach the adapter", k)
			case strings.HasPrefix(f, "/etc/neuvector/"):
				p.add("%s %q is under /etc/neuvector/, where the controller keeps its own certificates", k, f)
			default:
				if vol := findVolume(spec, m.Name); vol == nil || vol.Secret == nil {
					p.add("%s is not from a Secret volume", k)
				}
			}
		}
	}
	return p
}

// checkControllerUntouched: the patch adds the sidecar and nothing else.
func checkControllerUntouched(before, after *appsv1.Deployment) problems {
	var p problems
	if !reflect.DeepEqual(before.ObjectMeta, after.ObjectMeta) {
		p.add("Deployment metadata changed")
	}
	if !reflect.DeepEqual(before.Spec.Selector, after.Spec.Selector) || !reflect.DeepEqual(before.Spec.Template.Labels, after.Spec.Template.Labels) {
		p.add("selector or pod labels changed")
	}
	bc, ac := findContainer(&before.Spec.Template.Spec, controllerName), findContainer(&after.Spec.Template.Spec, controllerName)
	if ac == nil || !reflect.DeepEqual(*bc, *ac) {
		p.add("controller container changed")
	}
	for _, v := range before.Spec.Template.Spec.Volumes {
		if av := findVolume(&after.Spec.Template.Spec, v.Name); av == nil || !reflect.DeepEqual(v, *av) {
			p.add("controller volume %s changed or removed", v.Name)
		}
	}
	bs, as := before.Spec.Template.Spec, after.Spec.Template.Spec
	bs.Containers, as.Containers, bs.Volumes, as.Volumes = nil, nil, nil, nil
	if !reflect.DeepEqual(bs, as) {
		p.add("pod-level spec changed")
	}
	bd, ad := before.Spec, after.Spec
	bd.Template, ad.Template = corev1.PodTemplateSpec{}, corev1.PodTemplateSpec{}
	if !reflect.DeepEqual(bd, ad) {
		p.add("Deployment spec outside the pod template changed")
	}
	return p
}

// checkService: the old adapter's Service name and port, selecting the
// controller pods, targeting the sidecar's named API port.
func checkService(svc *corev1.Service, tmpl *corev1.PodTemplateSpec, tls bool) problems {
	var p problems
	if svc.Name != serviceName || svc.Namespace != namespace {
		p.add("Service %s/%s, want %s/%s", svc.Namespace, svc.Name, namespace, serviceName)
	}
	if svc.Spec.Type != "" && svc.Spec.Type != corev1.ServiceTypeClusterIP {
		p.add("Service type %s, want ClusterIP", svc.Spec.Type)
	}
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(tmpl.Labels)) {
		p.add("Service selector %v does not select the controller pod (labels %v)", svc.Spec.Selector, tmpl.Labels)
	}
	if len(svc.Spec.Ports) != 1 {
		p.add("Service has %d ports, want 1", len(svc.Spec.Ports))
		return p
	}
	sp := svc.Spec.Ports[0]
	wantPort, wantTarget, wantProto := int32(httpPort), "scanner-http", "http"
	if tls {
		wantPort, wantTarget, wantProto = httpsPort, "scanner-https", "https"
	}
	if sp.Name != servicePortName || sp.Port != wantPort || (sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP) {
		p.add("Service port %s %d, want %s %d", sp.Name, sp.Port, servicePortName, wantPort)
	}
	if sp.AppProtocol == nil || *sp.AppProtocol != wantProto {
		p.add("Service appProtocol %v, want %s", sp.AppProtocol, wantProto)
	}
	// A named targetPort: pods without the sidecar (mid-rollout) have no such
	// port, so the endpoints never include them.
	if sp.TargetPort.Type != intstr.String || sp.TargetPort.StrVal != wantTarget {
		p.add("Service targetPort %s, want the sidecar's named port %s", sp.TargetPort.String(), wantTarget)
	}
	c := findContainer(&tmpl.Spec, sidecarName)
	if c == nil {
		p.add("no sidecar to target")
		return p
	}
	if _, ok := portByRef(c, sp.TargetPort); !ok {
		p.add("Service targetPort %s is not a port of the sidecar", sp.TargetPort.String())
	}
	for _, other := range tmpl.Spec.Containers {
		if other.Name != sidecarName {
			if _, ok := portByRef(&other, sp.TargetPort); ok {
				p.add("Service targetPort %s also names a port of %s", sp.TargetPort.String(), other.Name)
			}
		}
	}
	if pt, ok := portByRef(c, sp.TargetPort); ok {
		env := envMap(c)
		if api, err := addrPort(env["SCANNER_API_ADDR"].Value); err != nil || api != pt.ContainerPort {
			p.add("Service targets %d but the adapter listens on %q", pt.ContainerPort, env["SCANNER_API_ADDR"].Value)
		}
	}
	return p
}

// npPortAdmits tells whether a NetworkPolicyPort admits pp on the pod.
func npPortAdmits(np networkingv1.NetworkPolicyPort, pp protoPort, tmpl *corev1.PodTemplateSpec) bool {
	proto := corev1.ProtocolTCP
	if np.Protocol != nil {
		proto = *np.Protocol
	}
	if proto != pp.Proto {
		return false
	}
	if np.Port == nil {
		return true
	}
	if np.Port.Type == intstr.String {
		for _, c := range tmpl.Spec.Containers {
			for _, cp := range c.Ports {
				cproto := cp.Protocol
				if cproto == "" {
					cproto = corev1.ProtocolTCP
				}
				if cp.Name == np.Port.StrVal && cp.ContainerPort == pp.Port && cproto == pp.Proto {
					return true
				}
			}
		}
		return false
	}
	if np.EndPort != nil {
		return np.Port.IntVal <= pp.Port && pp.Port <= *np.EndPort
	}
	return np.Port.IntVal == pp.Port
}

func ruleAdmitsPort(r networkingv1.NetworkPolicyIngressRule, pp protoPort, tmpl *corev1.PodTemplateSpec) bool {
	if len(r.Ports) == 0 {
		return true
	}
	for _, np := range r.Ports {
		if npPortAdmits(np, pp, tmpl) {
			return true
		}
	}
	return false
}

// allowedAdapterPeer: Harbor's namespace, or (OpenShift) the router's.
func allowedAdapterPeer(peer networkingv1.NetworkPolicyPeer, openshift bool) bool {
	if peer.IPBlock != nil || peer.NamespaceSelector == nil || len(peer.NamespaceSelector.MatchExpressions) > 0 {
		return false
	}
	if peer.PodSelector != nil && (len(peer.PodSelector.MatchLabels) > 0 || len(peer.PodSelector.MatchExpressions) > 0) {
		return false
	}
	ml := peer.NamespaceSelector.MatchLabels
	allowed := []map[string]string{{"kubernetes.io/metadata.name": harborNamespace}}
	if openshift {
		allowed = append(allowed,
			map[string]string{"network.openshift.io/policy-group": "ingress"},
			map[string]string{"policy-group.network.openshift.io/host-network": ""})
	}
	for _, a := range allowed {
		if reflect.DeepEqual(ml, a) {
			return true
		}
	}
	return false
}

// checkNetworkPolicy: every controller port and the ops port from anywhere,
// the adapter API only from Harbor's namespace (and OpenShift's router).
func checkNetworkPolicy(np *networkingv1.NetworkPolicy, tmpl *corev1.PodTemplateSpec, openshift bool) problems {
	var p problems
	if np.Namespace != namespace {
		p.add("NetworkPolicy namespace %q, want %q", np.Namespace, namespace)
	}
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(tmpl.Labels)) {
		p.add("NetworkPolicy podSelector does not select the controller pod only (%v)", np.Spec.PodSelector)
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
		p.add("policyTypes %v, want [Ingress] (an Egress policy would cut the controller's own connections)", np.Spec.PolicyTypes)
	}
	fromAnywhere := func(pp protoPort) bool {
		for _, r := range np.Spec.Ingress {
			if len(r.From) == 0 && ruleAdmitsPort(r, pp, tmpl) {
				return true
			}
		}
		return false
	}
	for _, pp := range append(slices.Clone(controllerPorts), protoPort{corev1.ProtocolTCP, opsPort}) {
		if !fromAnywhere(pp) {
			p.add("port %s is not admitted from anywhere", pp)
		}
	}
	for _, port := range []int32{httpPort, httpsPort} {
		pp := protoPort{corev1.ProtocolTCP, port}
		fromHarbor := false
		for _, r := range np.Spec.Ingress {
			if !ruleAdmitsPort(r, pp, tmpl) {
				continue
			}
			if len(r.From) == 0 {
				p.add("adapter port %s is admitted from anywhere", pp)
				continue
			}
			for _, peer := range r.From {
				if !allowedAdapterPeer(peer, openshift) {
					p.add("adapter port %s is admitted from %+v", pp, peer)
				}
				if peer.NamespaceSelector != nil && peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == harborNamespace {
					fromHarbor = true
				}
			}
		}
		if !fromHarbor {
			p.add("adapter port %s is not admitted from Harbor's namespace", pp)
		}
	}
	if openshift {
		router := false
		for _, r := range np.Spec.Ingress {
			for _, peer := range r.From {
				if peer.NamespaceSelector != nil && peer.NamespaceSelector.MatchLabels["network.openshift.io/policy-group"] == "ingress" &&
					ruleAdmitsPort(r, protoPort{corev1.ProtocolTCP, httpsPort}, tmpl) {
					router = true
				}
			}
		}
		if !router {
			p.add("OpenShift: the router cannot reach the adapter's HTTPS port")
		}
	}
	return p
}

// checkRoute: the chart's Route name, to the Service's named port, a
// termination that works with the adapter's certificate.
func checkRoute(rt *route, svc *corev1.Service, termination string) problems {
	var p problems
	if rt.Name != routeName || rt.Namespace != namespace {
		p.add("Route %s/%s, want %s/%s", rt.Namespace, rt.Name, namespace, routeName)
	}
	if rt.Spec.To.Kind != "Service" || rt.Spec.To.Name != svc.Name {
		p.add("Route to %s/%s, want Service/%s", rt.Spec.To.Kind, rt.Spec.To.Name, svc.Name)
	}
	if rt.Spec.Port == nil || rt.Spec.Port.TargetPort.String() != servicePortName {
		p.add("Route port %v, want the Service port name %s", rt.Spec.Port, servicePortName)
	}
	tls := rt.Spec.TLS
	if tls == nil {
		p.add("Route without TLS")
		return p
	}
	if tls.Termination != termination {
		p.add("Route termination %q, want %q", tls.Termination, termination)
	}
	switch tls.Termination {
	case "passthrough":
		if tls.Certificate != "" || tls.Key != "" || tls.DestinationCACertificate != "" {
			p.add("passthrough Route carries certificates the router cannot use")
		}
		if tls.InsecureEdgeTerminationPolicy == "Allow" {
			p.add("passthrough Route cannot allow plain HTTP")
		}
	case "reencrypt":
		// An empty destinationCACertificate makes the router use the service
		// CA, which signed the adapter's serving certificate.
		if tls.DestinationCACertificate != "" || svc.Annotations[servingCertKey] == "" {
			p.add("reencrypt Route should verify the service serving certificate (no destinationCACertificate, annotated Service)")
		}
	default:
		p.add("Route termination %q: the adapter serves HTTPS itself", tls.Termination)
	}
	return p
}

// sccControllerVolumes are the volume types neuvector-scc-controller allows
// (controller-api.md §17.2).
var sccControllerVolumes = []string{"configMap", "downwardAPI", "emptyDir", "persistentVolumeClaim", "azureFile", "projected", "secret"}

func volumeType(v corev1.Volume) string {
	vs := v.VolumeSource
	switch {
	case vs.ConfigMap != nil:
		return "configMap"
	case vs.DownwardAPI != nil:
		return "downwardAPI"
	case vs.EmptyDir != nil:
		return "emptyDir"
	case vs.PersistentVolumeClaim != nil:
		return "persistentVolumeClaim"
	case vs.AzureFile != nil:
		return "azureFile"
	case vs.Projected != nil:
		return "projected"
	case vs.Secret != nil:
		return "secret"
	case vs.HostPath != nil:
		return "hostPath"
	}
	return "other"
}

// checkSCCController checks what the OpenShift patch adds to the controller
// pod against the rules of SCC neuvector-scc-controller (controller-api.md
// §17.2; the SCC the NeuVector docs and chart create): RunAsAny user and
// SELinux, no privileged containers, no privilege escalation, ALL capabilities
// required dropped, none allowed added, no host ports/network/PID/IPC, only the
// listed volume types, and no seccompProfiles list, which makes OpenShift's
// admission reject any seccomp profile ("seccomp may not be set").
func checkSCCController(before, after *appsv1.Deployment) problems {
	var p problems
	spec := &after.Spec.Template.Spec
	c := findContainer(spec, sidecarName)
	if c == nil {
		p.add("no sidecar")
		return p
	}
	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	if sc.Privileged != nil && *sc.Privileged {
		p.add("SCC: privileged container")
	}
	if sc.AllowPrivilegeEscalation != nil && *sc.AllowPrivilegeEscalation {
		p.add("SCC: allowPrivilegeEscalation true")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		p.add("SCC: capabilities must drop ALL")
	} else if len(sc.Capabilities.Add) > 0 {
		p.add("SCC: capabilities added %v", sc.Capabilities.Add)
	}
	if sc.SeccompProfile != nil {
		p.add("SCC: seccompProfile set; neuvector-scc-controller allows none")
	}
	if sc.ProcMount != nil && *sc.ProcMount != corev1.DefaultProcMount {
		p.add("SCC: procMount %s", *sc.ProcMount)
	}
	if sc.RunAsUser != nil {
		p.add("SCC: runAsUser set; the OpenShift variant must not need one")
	}
	for _, cp := range c.Ports {
		if cp.HostPort != 0 || cp.HostIP != "" {
			p.add("SCC: host port %d", cp.HostPort)
		}
	}
	bs, as := before.Spec.Template.Spec, after.Spec.Template.Spec
	if as.HostNetwork != bs.HostNetwork || as.HostPID != bs.HostPID || as.HostIPC != bs.HostIPC {
		p.add("SCC: host namespaces changed")
	}
	if !reflect.DeepEqual(as.SecurityContext, bs.SecurityContext) {
		p.add("SCC: pod securityContext changed")
	}
	for _, v := range as.Volumes {
		if findVolume(&bs, v.Name) != nil {
			continue // the controller's own, admitted before
		}
		if t := volumeType(v); !slices.Contains(sccControllerVolumes, t) {
			p.add("SCC: volume %s of type %s is not allowed", v.Name, t)
		}
	}
	return p
}
