package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Status of a step.
type Status string

// Statuses, printed as ✓ ! ✗ and - in the human output.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
	Info Status = "info" // nothing to judge, or skipped
)

func (s Status) symbol() string {
	switch s {
	case OK:
		return "✓"
	case Warn:
		return "!"
	case Fail:
		return "✗"
	}
	return "-"
}

// Step is one diagnosed line.
type Step struct {
	Step    string   `json:"step"` // config, tls, metadata, scan, sbom
	Status  Status   `json:"status"`
	Message string   `json:"message"`
	Details []string `json:"details,omitempty"`
	Hints   []string `json:"hints,omitempty"`
	// Image is set on scan and sbom steps.
	Image *ImageResult `json:"image,omitempty"`
}

// ImageResult is the machine-readable outcome of one image's scan.
type ImageResult struct {
	Image         string         `json:"image"`
	Kind          string         `json:"kind"` // vulnerability or sbom
	ID            string         `json:"id,omitempty"`
	Seconds       float64        `json:"seconds"`
	Polls         int            `json:"polls"`
	Severity      string         `json:"severity,omitempty"`
	Counts        map[string]int `json:"counts,omitempty"`
	Total         int            `json:"total,omitempty"`
	Fixable       int            `json:"fixable,omitempty"`
	SBOMMediaType string         `json:"sbom_media_type,omitempty"`
	Packages      int            `json:"packages,omitempty"`
	Error         string         `json:"error,omitempty"`
}

// Report is the whole run, as -json prints it.
type Report struct {
	OK bool `json:"ok"`
	// RegistrationOK is false when a step other than a scan failed: TLS,
	// metadata, configuration. Failed scans alone leave it true.
	RegistrationOK bool    `json:"registration_ok"`
	URL            string  `json:"url"`
	Steps          []*Step `json:"steps"`
}

// printer prints each step as it is decided (people watch long scans) or,
// for JSON, collects them for one document at the end.
type printer struct {
	mu   sync.Mutex
	out  io.Writer
	json bool
	rep  Report
}

func (p *printer) add(s *Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rep.Steps = append(p.rep.Steps, s)
	if p.json {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s\n", s.Status.symbol(), s.Step, s.Message)
	for _, d := range s.Details {
		fmt.Fprintf(&b, "    %s\n", d)
	}
	for _, h := range s.Hints {
		fmt.Fprintf(&b, "    hint: %s\n", h)
	}
	_, _ = io.WriteString(p.out, b.String())
}

// finish decides the verdict (no step failed) and prints it.
func (p *printer) finish() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ok, regOK := true, true
	warns, scans, scansFailed := 0, 0, 0
	for _, s := range p.rep.Steps {
		isScan := s.Step == "scan" || s.Step == "sbom"
		if isScan {
			scans++
		}
		switch s.Status {
		case Fail:
			ok = false
			if isScan {
				scansFailed++
			} else {
				regOK = false
			}
		case Warn:
			warns++
		}
	}
	p.rep.OK, p.rep.RegistrationOK = ok, regOK
	if p.json {
		enc := json.NewEncoder(p.out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(&p.rep)
		return ok
	}
	switch {
	case !regOK:
		fmt.Fprintln(p.out, "✗ Harbor would not work with this adapter as registered; see the hints above.")
	case !ok:
		fmt.Fprintf(p.out, "✗ the registration works, but %d of %d scan jobs failed; Harbor would show them failed with the messages above.\n", scansFailed, scans)
	case warns > 0:
		fmt.Fprintf(p.out, "✓ Harbor would work with this adapter (%d warning(s) above).\n", warns)
	default:
		fmt.Fprintln(p.out, "✓ Harbor would work with this adapter.")
	}
	return ok
}
