package sim

import (
	"net/http"
	"strings"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// The controller's router is julienschmidt/httprouter: an unknown path is
// 404 code 1, a known path with another method 405 code 2.

type handlerFunc func(rp *replica, w http.ResponseWriter, r *http.Request, params []string)

type route struct {
	method  string
	pattern string
	h       handlerFunc
}

const (
	patImages = "/v1/scan/registry/{name}/images"
	patImage  = "/v1/scan/registry/{name}/image/{id}"
)

var routes = []route{
	{http.MethodPost, "/v1/auth", (*replica).handleLogin},
	{http.MethodPatch, "/v1/auth", (*replica).handleKeepAlive},
	{http.MethodDelete, "/v1/auth", (*replica).handleLogout},
	{http.MethodPost, "/v1/scan/repository", (*replica).handleScanRepository},
	{http.MethodGet, "/v1/system/summary", (*replica).handleSummary},
	{http.MethodGet, patImages, (*replica).handleImages},
	{http.MethodGet, patImage, (*replica).handleImageReport},
	{http.MethodPost, "/v1/fed/poll_internal", (*replica).handleFedPoll},
	{http.MethodPost, "/v1/fed/scan_data_internal", (*replica).handleFedScanData},
	{http.MethodGet, "/sim/stats", (*replica).handleStats},
	{http.MethodPost, "/sim/faults", (*replica).handleFaults},
	{http.MethodPost, "/sim/cvedb", (*replica).handleCVEDB},
	{http.MethodPost, "/sim/latency", (*replica).handleLatency},
	{http.MethodPost, "/sim/expire-tokens", (*replica).handleExpireTokens},
}

var routesByPattern = func() map[string][]route {
	m := map[string][]route{}
	for _, rt := range routes {
		m[rt.pattern] = append(m[rt.pattern], rt)
	}
	return m
}()

const registryPrefix = "/v1/scan/registry/"

// matchPath returns the route pattern of path and its parameters.
func matchPath(path string) (string, []string) {
	if _, ok := routesByPattern[path]; ok {
		return path, nil
	}
	rest, ok := strings.CutPrefix(path, registryPrefix)
	if !ok {
		return "", nil
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 2 && parts[0] != "" && parts[1] == "images":
		return patImages, parts[:1]
	case len(parts) == 3 && parts[0] != "" && parts[1] == "image" && parts[2] != "":
		return patImage, []string{parts[0], parts[2]}
	}
	return "", nil
}

func (rp *replica) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pattern, params := matchPath(r.URL.Path)
	if pattern == "" {
		rp.s.st.count("404")
		writeError(w, r, http.StatusNotFound, translate.CodeURLNotFound, "")
		return
	}
	for _, rt := range routesByPattern[pattern] {
		if rt.method == r.Method {
			rp.s.st.count(r.Method + " " + pattern)
			rt.h(rp, w, r, params)
			return
		}
	}
	rp.s.st.count("405")
	writeError(w, r, http.StatusMethodNotAllowed, translate.CodeMethodNotAllowed, "")
}
