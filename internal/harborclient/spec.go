package harborclient

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrURL is a registration URL Harbor would refuse.
var ErrURL = errors.New("harborclient: invalid registration URL")

// NormalizeURL turns a registration URL into the base Harbor appends
// /api/v1/... to: spaces and trailing slashes trimmed, http:// added when
// there is no scheme, rebuilt as scheme://host/path, so the path stays and
// the query and fragment go (harbor-contract.md §8.4).
func NormalizeURL(raw string) (string, error) {
	s := strings.Trim(raw, " ")
	s = strings.TrimRight(s, "/")
	if s == "" {
		return "", fmt.Errorf("%w: empty string", ErrURL)
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w: malformed URL: %v", ErrURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%w: invalid HTTP scheme: %s", ErrURL, u.Scheme)
	}
	// As Harbor's lib.ValidateHTTPURL: the decoded path, nothing else.
	return u.Scheme + "://" + u.Host + u.Path, nil
}
