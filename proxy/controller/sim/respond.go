package sim

import (
	"compress/gzip"
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// gzipMin is the controller's threshold: larger bodies are gzipped when the
// client accepts it.
const gzipMin = 1200

var gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(name), "gzip") {
				return true
			}
		}
	}
	return false
}

// writeBody sends a JSON body with the controller's headers.
func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	if len(body) > gzipMin && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		w.WriteHeader(status)
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(w)
		_, _ = zw.Write(body)
		_ = zw.Close()
		zw.Reset(nil)
		gzipPool.Put(zw)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, translate.CodeServerError, "")
		return
	}
	writeBody(w, r, status, body)
}

// writeError sends api.RESTError; an empty message repeats the code's
// fixed text, as the controller does when it has no detail.
func writeError(w http.ResponseWriter, r *http.Request, status, code int, message string) {
	text := translate.ControllerErrorText(code)
	if message == "" {
		message = text
	}
	body, _ := json.Marshal(translate.RESTError{Code: code, Error: text, Message: message})
	writeBody(w, r, status, body)
}

// writeEmpty is the controller's 200 with no body (PATCH/DELETE /v1/auth).
func writeEmpty(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
}
