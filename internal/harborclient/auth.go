package harborclient

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Registration auth values. Harbor stores the API-key kind as the header
// name itself; "APIKey" (the UI's label) is accepted as a synonym.
const (
	AuthNone       = ""
	AuthBasic      = "Basic"
	AuthBearer     = "Bearer"
	AuthAPIKey     = "APIKey"
	AuthAPIKeyName = "X-ScannerAdapter-API-Key"
)

// HeaderAPIKey is the header Harbor sends an API key in.
const HeaderAPIKey = "X-ScannerAdapter-API-Key"

// ErrAuthType is an auth kind Harbor does not know.
var ErrAuthType = errors.New("harborclient: auth type is not supported")

// authorizer adds the registration's credential to a request, as Harbor's
// src/pkg/scan/rest/auth does.
type authorizer struct {
	kind string // "", Basic, Bearer, X-ScannerAdapter-API-Key
	cred string
}

func newAuthorizer(kind, cred string) (authorizer, error) {
	k := strings.TrimSpace(kind)
	switch k {
	case AuthNone:
		return authorizer{}, nil
	case AuthBasic, AuthBearer, AuthAPIKeyName:
	case AuthAPIKey:
		k = AuthAPIKeyName
	default:
		// Harbor's registration check: "auth type %s is not supported".
		return authorizer{}, fmt.Errorf("%w: auth type %s is not supported", ErrAuthType, kind)
	}
	if cred == "" {
		// Harbor refuses to save such a registration.
		return authorizer{}, fmt.Errorf("%w: access_credential is required for auth type %s", ErrAuthType, kind)
	}
	return authorizer{kind: k, cred: cred}, nil
}

// authorize adds the header; with an empty credential it fails as Harbor's
// authorizers do, and the request is not sent.
func (a authorizer) authorize(req *http.Request) error {
	switch a.kind {
	case AuthNone:
		return nil
	case AuthBasic:
		if a.cred == "" {
			break
		}
		req.Header.Add("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.cred)))
		return nil
	case AuthBearer:
		if a.cred == "" {
			break
		}
		req.Header.Add("Authorization", "Bearer "+a.cred)
		return nil
	case AuthAPIKeyName:
		if a.cred == "" {
			break
		}
		req.Header.Add(HeaderAPIKey, a.cred)
		return nil
	}
	return fmt.Errorf("%s: missing data to authorize request", a.kind)
}

// BasicAuthorization is the registry.authorization Harbor builds from a
// robot account: "Basic " + base64(name:secret).
func BasicAuthorization(user, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))
}
