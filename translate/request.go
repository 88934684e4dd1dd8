package translate

import (
	"encoding/base64"
	stdjson "encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"
)

// MaxScanRequestBytes bounds what DecodeScanRequest reads; Harbor's bodies
// are well under 4 KiB (a Bearer registry token is the largest part).
const MaxScanRequestBytes = 64 << 10

// DecodeScanRequest decodes and validates a POST /scan body. Unknown fields
// (insecure, size, namespace_id…) are tolerated; without
// enabled_capabilities it means a vulnerability scan. Errors wrap
// ErrMalformed (not a JSON object, wrong JSON types), ErrInvalid (a missing
// or invalid field) or ErrUnsupported (a capability or report type this
// scanner lacks); their text is short, names the field and never quotes the
// body, which carries the registry credentials.
func DecodeScanRequest(body []byte) (*ScanRequest, error) {
	if len(body) > MaxScanRequestBytes {
		return nil, malformed("scan request: body too large")
	}
	// The standard validator first: goccy/go-json is fast but lenient with
	// some malformed input, and a 400 must mean "not JSON".
	if !stdjson.Valid(body) {
		return nil, malformed("scan request: body is not valid JSON")
	}
	if firstByte(body) != '{' {
		return nil, malformed("scan request: body must be a JSON object")
	}
	var req ScanRequest
	if err := json.Unmarshal(body, &req); err != nil {
		// encoding/json names the field by its JSON path ("registry.url");
		// the body is small, so decoding it twice on this error path is fine.
		// Should the two decoders ever disagree, the standard one decides.
		req = ScanRequest{}
		if serr := stdjson.Unmarshal(body, &req); serr != nil {
			return nil, typeError(serr)
		}
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return &req, nil
}

func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// typeError turns a decoder error into a message that names the field but
// never the value.
func typeError(err error) error {
	var te *stdjson.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return malformed(te.Field + ": wrong JSON type")
	}
	return malformed("scan request: wrong JSON types")
}

// Validate checks a decoded request as DecodeScanRequest does.
func (r *ScanRequest) Validate() error {
	if err := validateRegistryURL(r.Registry.URL); err != nil {
		return err
	}
	if err := validateAuthorization(r.Registry.Authorization); err != nil {
		return err
	}
	if r.Artifact.Repository == "" {
		return invalid("artifact.repository: required")
	}
	if !validRepository(r.Artifact.Repository) {
		return invalid("artifact.repository: must be a registry repository name (lowercase path components)")
	}
	if r.Artifact.Digest == "" {
		return invalid("artifact.digest: required")
	}
	if err := ValidateDigest(r.Artifact.Digest); err != nil {
		return err
	}
	if r.Artifact.Tag != "" && !validTag(r.Artifact.Tag) {
		return invalid("artifact.tag: must be a valid image tag")
	}
	for i := range r.EnabledCapabilities {
		if err := validateCapability(i, &r.EnabledCapabilities[i]); err != nil {
			return err
		}
	}
	return nil
}

func validateRegistryURL(s string) error {
	if s == "" {
		return invalid("registry.url: required")
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" {
		return invalid("registry.url: must be an http or https URL")
	}
	if !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") {
		return invalid("registry.url: must be an http or https URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return invalid("registry.url: must have a host")
	}
	if u.User != nil {
		// credentials belong in registry.authorization, never in a URL
		// that ends up in logs
		return invalid("registry.url: must not carry credentials")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return invalid("registry.url: invalid port")
		}
	}
	return nil
}

// validateAuthorization checks the shape only: empty, Basic or Bearer.
func validateAuthorization(a string) error {
	if a == "" {
		return nil
	}
	scheme, cred, ok := strings.Cut(a, " ")
	cred = strings.TrimLeft(cred, " ")
	switch {
	case !ok || cred == "":
		return invalid("registry.authorization: must be \"Basic <credentials>\" or \"Bearer <token>\"")
	case strings.EqualFold(scheme, "Basic"):
		if _, _, ok := DecodeBasicAuth(a); !ok {
			return invalid("registry.authorization: Basic credentials must be base64 of user:password")
		}
	case strings.EqualFold(scheme, "Bearer"):
		for i := 0; i < len(cred); i++ {
			if c := cred[i]; c <= ' ' || c >= 0x7f {
				return invalid("registry.authorization: Bearer token has invalid characters")
			}
		}
	default:
		return invalid("registry.authorization: must be \"Basic <credentials>\" or \"Bearer <token>\"")
	}
	return nil
}

// DecodeBasicAuth decodes "Basic base64(user:pass)" (scheme case-insensitive,
// standard base64 with or without padding). ok is false for anything else,
// including an empty user name.
func DecodeBasicAuth(authorization string) (user, pass string, ok bool) {
	const prefix = "basic "
	if len(authorization) < len(prefix) || !strings.EqualFold(authorization[:len(prefix)], prefix) {
		return "", "", false
	}
	enc := strings.Trim(authorization[len(prefix):], " ")
	if enc == "" {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(enc); err != nil {
			return "", "", false
		}
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	if !ok || user == "" {
		return "", "", false
	}
	return user, pass, true
}

// Digest lengths in hex by algorithm.
var digestHexLen = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

// ValidateDigest checks an "algorithm:hex" manifest digest (sha256, sha384
// or sha512, lowercase hex of the algorithm's length).
func ValidateDigest(d string) error {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || algo == "" || hex == "" {
		return invalid("artifact.digest: must be algorithm:hex")
	}
	n, known := digestHexLen[algo]
	if !known {
		return invalid("artifact.digest: algorithm must be sha256, sha384 or sha512")
	}
	if len(hex) != n {
		return invalid("artifact.digest: " + algo + " needs " + strconv.Itoa(n) + " hex digits")
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return invalid("artifact.digest: must be lowercase hex after the algorithm")
		}
	}
	return nil
}

// validRepository follows the distribution reference grammar for a path:
// components of [a-z0-9] separated by '.', '_', "__" or runs of '-', joined
// by '/', at most 255 characters in all.
func validRepository(s string) bool {
	if len(s) > 255 {
		return false
	}
	for comp := range strings.SplitSeq(s, "/") {
		if !validPathComponent(comp) {
			return false
		}
	}
	return true
}

func validPathComponent(c string) bool {
	if c == "" {
		return false
	}
	alnum := func(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }
	if !alnum(c[0]) || !alnum(c[len(c)-1]) {
		return false
	}
	for i := 1; i < len(c); {
		b := c[i]
		if alnum(b) {
			i++
			continue
		}
		// a separator: ".", "_", "__" or one or more "-"
		j := i
		switch b {
		case '.':
			j++
		case '_':
			j++
			if j < len(c) && c[j] == '_' {
				j++
			}
		case '-':
			for j < len(c) && c[j] == '-' {
				j++
			}
		default:
			return false
		}
		if j >= len(c) || !alnum(c[j]) {
			return false
		}
		i = j
	}
	return true
}

// validTag is the reference grammar's tag: [\w][\w.-]{0,127}.
func validTag(t string) bool {
	if len(t) > 128 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		word := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
		if !word && (i == 0 || c != '.' && c != '-') {
			return false
		}
	}
	return true
}

// Report types each capability can produce.
var producible = map[string][]string{
	CapabilityVulnerability: {MimeVuln11, MimeVulnHarbor10},
	CapabilitySBOM:          {MimeSBOMReport10},
}

func validateCapability(i int, c *EnabledCapability) error {
	field := "enabled_capabilities[" + strconv.Itoa(i) + "]"
	if c.Type == "" {
		return invalid(field + ".type: required")
	}
	produces, known := producible[c.Type]
	if !known {
		return unsupported(field + ".type: this scanner has no such capability (vulnerability, sbom)")
	}
	for _, m := range c.ProducesMimeTypes {
		ok := false
		for _, p := range produces {
			if m == p {
				ok = true
				break
			}
		}
		if !ok {
			return unsupported(field + ".produces_mime_types: this scanner cannot produce a requested report type for " + c.Type)
		}
	}
	if c.Type == CapabilitySBOM && c.Parameters != nil {
		for _, mt := range c.Parameters.SbomMediaTypes {
			if mt != MediaSPDX && mt != MediaCycloneDX {
				return invalid(field + ".parameters.sbom_media_types: supported are application/spdx+json and application/vnd.cyclonedx+json")
			}
		}
	}
	return nil
}

// Wants reports whether the request enables capability typ (vulnerability
// when enabled_capabilities is absent or empty).
func (r *ScanRequest) Wants(typ string) bool {
	if len(r.EnabledCapabilities) == 0 {
		return typ == CapabilityVulnerability
	}
	for i := range r.EnabledCapabilities {
		if r.EnabledCapabilities[i].Type == typ {
			return true
		}
	}
	return false
}

// SbomMediaTypes is what an SBOM request asks for (SPDX, as Harbor assumes,
// when it names none).
func (r *ScanRequest) SbomMediaTypes() []string {
	for i := range r.EnabledCapabilities {
		c := &r.EnabledCapabilities[i]
		if c.Type == CapabilitySBOM {
			if c.Parameters != nil && len(c.Parameters.SbomMediaTypes) > 0 {
				return c.Parameters.SbomMediaTypes
			}
			return []string{MediaSPDX}
		}
	}
	return nil
}
