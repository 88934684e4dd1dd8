package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// errDecode prefixes every strict-decoding failure.
var errDecode = errors.New("deploy: strict decode")

// object is one decoded manifest object.
type object struct {
	APIVersion, Kind, Name, Namespace string
	Obj                               any    // *appsv1.Deployment, *corev1.Service, ...
	JSON                              []byte // the document as JSON, as kubectl sends it
}

func (o object) String() string { return o.Kind + "/" + o.Name }

// newObject maps apiVersion/kind to the Go type a manifest must decode into.
// The Kubernetes kinds use k8s.io/api; the two CRD groups that the overlays
// use (cert-manager, OpenShift routes) use the local types below.
var newObject = map[string]func() any{
	"apps/v1/Deployment":                 func() any { return new(appsv1.Deployment) },
	"v1/Service":                         func() any { return new(corev1.Service) },
	"v1/Secret":                          func() any { return new(corev1.Secret) },
	"networking.k8s.io/v1/NetworkPolicy": func() any { return new(networkingv1.NetworkPolicy) },
	"cert-manager.io/v1/Certificate":     func() any { return new(certificate) },
	"cert-manager.io/v1/Issuer":          func() any { return new(issuer) },
	"route.openshift.io/v1/Route":        func() any { return new(route) },
}

// decodeStrict decodes one YAML document into its API type, rejecting unknown
// and duplicate fields and case-insensitive matches, as the API server's
// strict field validation does.
func decodeStrict(doc []byte) (object, error) {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return object{}, fmt.Errorf("%w: yaml: %v", errDecode, err)
	}
	var tm struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &tm); err != nil {
		return object{}, fmt.Errorf("%w: type meta: %v", errDecode, err)
	}
	key := tm.APIVersion + "/" + tm.Kind
	mk := newObject[key]
	if mk == nil {
		return object{}, fmt.Errorf("%w: no API type for apiVersion %q kind %q", errDecode, tm.APIVersion, tm.Kind)
	}
	obj := mk()
	strictErrs, err := kjson.UnmarshalStrict(j, obj)
	if err != nil {
		return object{}, fmt.Errorf("%w: %s %s: %v", errDecode, tm.Kind, tm.Metadata.Name, err)
	}
	if len(strictErrs) > 0 {
		return object{}, fmt.Errorf("%w: %s %s: %v", errDecode, tm.Kind, tm.Metadata.Name, errors.Join(strictErrs...))
	}
	return object{APIVersion: tm.APIVersion, Kind: tm.Kind, Name: tm.Metadata.Name, Namespace: tm.Metadata.Namespace, Obj: obj, JSON: j}, nil
}

// splitYAML splits a multi-document YAML file; empty documents are dropped.
func splitYAML(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(append([]byte("\n"), b...), []byte("\n---")) {
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func stripComments(b []byte) []byte {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, "\n"))
}

// decodeAll decodes rendered documents strictly.
func decodeAll(docs [][]byte) ([]object, error) {
	objs := make([]object, 0, len(docs))
	for _, d := range docs {
		o, err := decodeStrict(d)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// jsonPatchOp is one RFC 6902 operation, as kustomize's JSON6902 patches use.
type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	From  string `json:"from,omitempty"`
	Value any    `json:"value,omitempty"`
}

// The CRD types below carry the field names of the upstream API types
// (cert-manager.io/v1 and route.openshift.io/v1) for the fields these
// manifests may use; a misspelt or invented field fails strict decoding. They
// are transcribed rather than imported to keep two large modules out of the
// build for four structs.

type certificate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              certificateSpec `json:"spec"`
}

type certificateSpec struct {
	SecretName     string                    `json:"secretName"`
	SecretTemplate *certificateSecretTmpl    `json:"secretTemplate,omitempty"`
	CommonName     string                    `json:"commonName,omitempty"`
	DNSNames       []string                  `json:"dnsNames,omitempty"`
	IPAddresses    []string                  `json:"ipAddresses,omitempty"`
	URIs           []string                  `json:"uris,omitempty"`
	Duration       *metav1.Duration          `json:"duration,omitempty"`
	RenewBefore    *metav1.Duration          `json:"renewBefore,omitempty"`
	IssuerRef      certManagerObjectRef      `json:"issuerRef"`
	IsCA           bool                      `json:"isCA,omitempty"`
	Usages         []string                  `json:"usages,omitempty"`
	PrivateKey     *certificatePrivateKey    `json:"privateKey,omitempty"`
	RevisionLimit  *int32                    `json:"revisionHistoryLimit,omitempty"`
	Subject        *certificateSubject       `json:"subject,omitempty"`
	Keystores      map[string]map[string]any `json:"keystores,omitempty"`
}

type certificateSubject struct {
	Organizations       []string `json:"organizations,omitempty"`
	Countries           []string `json:"countries,omitempty"`
	OrganizationalUnits []string `json:"organizationalUnits,omitempty"`
	Localities          []string `json:"localities,omitempty"`
	Provinces           []string `json:"provinces,omitempty"`
	StreetAddresses     []string `json:"streetAddresses,omitempty"`
	PostalCodes         []string `json:"postalCodes,omitempty"`
	SerialNumber        string   `json:"serialNumber,omitempty"`
}

type certificateSecretTmpl struct {
	Annotations map[string]string `json:"annotations,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}

type certificatePrivateKey struct {
	RotationPolicy string `json:"rotationPolicy,omitempty"`
	Encoding       string `json:"encoding,omitempty"`
	Algorithm      string `json:"algorithm,omitempty"`
	Size           int    `json:"size,omitempty"`
}

type certManagerObjectRef struct {
	Name  string `json:"name"`
	Kind  string `json:"kind,omitempty"`
	Group string `json:"group,omitempty"`
}

type issuer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		SelfSigned *struct {
			CRLDistributionPoints []string `json:"crlDistributionPoints,omitempty"`
		} `json:"selfSigned,omitempty"`
		CA *struct {
			SecretName            string   `json:"secretName"`
			CRLDistributionPoints []string `json:"crlDistributionPoints,omitempty"`
		} `json:"ca,omitempty"`
	} `json:"spec"`
}

type route struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              routeSpec `json:"spec"`
}

type routeSpec struct {
	Host              string                 `json:"host,omitempty"`
	Subdomain         string                 `json:"subdomain,omitempty"`
	Path              string                 `json:"path,omitempty"`
	To                routeTargetReference   `json:"to"`
	AlternateBackends []routeTargetReference `json:"alternateBackends,omitempty"`
	Port              *routePort             `json:"port,omitempty"`
	TLS               *routeTLSConfig        `json:"tls,omitempty"`
	WildcardPolicy    string                 `json:"wildcardPolicy,omitempty"`
	HTTPHeaders       map[string]any         `json:"httpHeaders,omitempty"`
}

type routeTargetReference struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Weight *int32 `json:"weight,omitempty"`
}

type routePort struct {
	TargetPort intstr.IntOrString `json:"targetPort"`
}

type routeTLSConfig struct {
	Termination                   string `json:"termination"`
	Certificate                   string `json:"certificate,omitempty"`
	Key                           string `json:"key,omitempty"`
	CACertificate                 string `json:"caCertificate,omitempty"`
	DestinationCACertificate      string `json:"destinationCACertificate,omitempty"`
	InsecureEdgeTerminationPolicy string `json:"insecureEdgeTerminationPolicy,omitempty"`
	ExternalCertificate           *struct {
		Name string `json:"name"`
	} `json:"externalCertificate,omitempty"`
}
