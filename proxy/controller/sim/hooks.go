package sim

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Test hooks (no auth): POST /sim/faults, /sim/cvedb, /sim/latency,
// /sim/expire-tokens. Bad bodies get the controller's 400 code 6.

var errHookBody = errors.New("sim: invalid hook body")

// FaultRequest is the body of POST /sim/faults.
type FaultRequest struct {
	Digest  string `json:"digest"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// CVEDBRequest is the body of POST /sim/cvedb.
type CVEDBRequest struct {
	Version    string `json:"version"`
	CreateTime string `json:"create_time"`
}

// LatencyRequest is the body of POST /sim/latency.
type LatencyRequest struct {
	Latency string `json:"latency"` // a Go duration, e.g. "2s"
}

// decodeFault decodes POST /sim/faults: a digest is required; code 0 or
// an empty message means clear.
func decodeFault(body []byte) (FaultRequest, error) {
	var f FaultRequest
	if err := json.Unmarshal(body, &f); err != nil {
		return f, err
	}
	if f.Digest == "" || f.Code < 0 {
		return f, errHookBody
	}
	return f, nil
}

func decodeCVEDB(body []byte) (CVEDBRequest, error) {
	var c CVEDBRequest
	if err := json.Unmarshal(body, &c); err != nil {
		return c, err
	}
	if c.CreateTime != "" {
		if _, err := time.Parse(time.RFC3339, c.CreateTime); err != nil {
			return c, errHookBody
		}
	}
	return c, nil
}

func decodeLatency(body []byte) (time.Duration, error) {
	var l LatencyRequest
	if err := json.Unmarshal(body, &l); err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(l.Latency)
	if err != nil || d < 0 {
		return 0, errHookBody
	}
	return d, nil
}

func hookBad(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, http.StatusBadRequest, translate.CodeWrongFormat, "")
}

func (rp *replica) handleFaults(w http.ResponseWriter, r *http.Request, _ []string) {
	body, err := readBody(w, r)
	if err != nil {
		hookBad(w, r)
		return
	}
	f, err := decodeFault(body)
	if err != nil {
		hookBad(w, r)
		return
	}
	rp.s.SetFault(f.Digest, f.Code, f.Message)
	writeEmpty(w)
}

func (rp *replica) handleCVEDB(w http.ResponseWriter, r *http.Request, _ []string) {
	body, err := readBody(w, r)
	if err != nil {
		hookBad(w, r)
		return
	}
	c, err := decodeCVEDB(body)
	if err != nil {
		hookBad(w, r)
		return
	}
	rp.s.SetCVEDB(c.Version, c.CreateTime)
	writeEmpty(w)
}

func (rp *replica) handleLatency(w http.ResponseWriter, r *http.Request, _ []string) {
	body, err := readBody(w, r)
	if err != nil {
		hookBad(w, r)
		return
	}
	d, err := decodeLatency(body)
	if err != nil {
		hookBad(w, r)
		return
	}
	rp.s.SetLatency(d)
	writeEmpty(w)
}

func (rp *replica) handleExpireTokens(w http.ResponseWriter, _ *http.Request, _ []string) {
	rp.s.ExpireTokens()
	writeEmpty(w)
}
