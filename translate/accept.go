package translate

// ReportKind is what a report request asks for.
type ReportKind uint8

const (
	ReportVuln ReportKind = iota
	ReportSBOM
)

// ParseReportAccept maps a report request's Accept header to what to serve
// and the Content-Type to answer with (always the spec's exact string):
//
//   - the two vulnerability report types → ReportVuln with that type;
//   - "", "*/*", "application/*", "application/json" → ReportVuln, MimeVuln11;
//   - the SBOM report type → ReportSBOM, MimeSBOMReport10.
//
// Harbor sends the exact strings; media types are also matched
// case-insensitively, with any spacing around ';' and a version parameter
// that must match when present. In a list the first acceptable entry wins
// (q=0 entries are skipped). The raw type and anything else are ErrBadAccept.
// Harbor's exact strings cost no allocation.
func ParseReportAccept(accept []byte) (kind ReportKind, contentType string, err error) {
	// Fast path: what Harbor sends, byte for byte.
	switch string(accept) {
	case MimeVuln11:
		return ReportVuln, MimeVuln11, nil
	case MimeVulnHarbor10:
		return ReportVuln, MimeVulnHarbor10, nil
	case MimeSBOMReport10:
		return ReportSBOM, MimeSBOMReport10, nil
	case "", "*/*":
		return ReportVuln, MimeVuln11, nil
	}
	s := accept
	empty := true
	for len(s) > 0 {
		var rng []byte
		rng, s = cutByte(s, ',')
		rng = trimOWS(rng)
		if len(rng) == 0 {
			continue
		}
		empty = false
		if k, ct, ok := matchRange(rng); ok {
			return k, ct, nil
		}
	}
	if empty {
		return ReportVuln, MimeVuln11, nil
	}
	return 0, "", ErrBadAccept
}

// matchRange matches one media range with its parameters.
func matchRange(rng []byte) (ReportKind, string, bool) {
	mt, params := cutByte(rng, ';')
	mt = trimOWS(mt)
	var version []byte
	hasVersion := false
	for len(params) > 0 {
		var p []byte
		p, params = cutByte(params, ';')
		name, value := cutByte(trimOWS(p), '=')
		name, value = trimOWS(name), unquote(trimOWS(value))
		switch {
		case equalFold(name, "q"):
			if isZeroQ(value) {
				return 0, "", false
			}
		case equalFold(name, "version"):
			version, hasVersion = value, true
		}
	}
	versionIs := func(v string) bool { return !hasVersion || string(version) == v }
	switch {
	case equalFold(mt, "application/vnd.security.vulnerability.report"):
		if versionIs("1.1") {
			return ReportVuln, MimeVuln11, true
		}
	case equalFold(mt, "application/vnd.scanner.adapter.vuln.report.harbor+json"):
		if versionIs("1.0") {
			return ReportVuln, MimeVulnHarbor10, true
		}
	case equalFold(mt, "application/vnd.security.sbom.report+json"):
		if versionIs("1.0") {
			return ReportSBOM, MimeSBOMReport10, true
		}
	case equalFold(mt, "*/*"), equalFold(mt, "application/*"), equalFold(mt, "application/json"):
		return ReportVuln, MimeVuln11, true
	}
	return 0, "", false
}

func cutByte(s []byte, sep byte) (before, after []byte) {
	for i, c := range s {
		if c == sep {
			return s[:i], s[i+1:]
		}
	}
	return s, nil
}

func trimOWS(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func unquote(s []byte) []byte {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// equalFold compares ASCII case-insensitively without allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// isZeroQ reports whether a q value is 0 (0, 0., 0.0, 0.000).
func isZeroQ(v []byte) bool {
	if len(v) == 0 || v[0] != '0' {
		return false
	}
	for i, c := range v[1:] {
		if i == 0 && c == '.' {
			continue
		}
		if c != '0' {
			return false
		}
	}
	return true
}
