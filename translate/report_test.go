package translate

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestItemSeverity(t *testing.T) {
	cases := []struct {
		sev, feed string
		v3, v2    float32
		want      string
		wantFeed  string
	}{
		{"High", "critical", 5, 0, "High", "Critical"},
		{"critical", "", 9.8, 0, "Critical", "Critical"},
		{"", "", 9.0, 0, "Critical", "Critical"},
		{"", "", 0, 7.0, "High", "High"},
		{"", "", 4.0, 0, "Medium", "Medium"},
		{"", "", 3.9, 0, "Low", "Low"},
		{"", "", 0, 0, "Low", "Negligible"},
		{"Bogus", "moderate", 9.5, 0, "Critical", "Medium"},
		{"Medium", "important", 1, 0, "Medium", "High"},
		{"Low", "end-of-life", 8, 0, "Low", "Low"},
		{"Low", "none", 8, 0, "Low", "Negligible"},
		{"Low", "unimportant", 8, 0, "Low", "Low"},
		{"Low", "weird", 0.5, 0, "Low", "Low"},
	}
	for _, c := range cases {
		v := Vulnerability{Severity: c.sev, FeedRating: c.feed, ScoreV3: c.v3, Score: c.v2}
		score := score64(c.v3)
		if score <= 0 {
			score = score64(c.v2)
		}
		if got := itemSeverity(&v, false, score); got != c.want {
			t.Errorf("%+v: passthrough %s, want %s", c, got, c.want)
		}
		if got := itemSeverity(&v, true, score); got != c.wantFeed {
			t.Errorf("%+v: feed-based %s, want %s", c, got, c.wantFeed)
		}
	}
	if got := severityFromFeed("", -1); got != SeverityUnknown {
		t.Errorf("negative score: %s", got)
	}
}

func TestNewVulnReport(t *testing.T) {
	r := &ScanRepoReport{Vulnerabilities: []Vulnerability{
		{Name: "CVE-2024-1", PackageName: "openssl", PackageVersion: "3.0", Severity: "Medium", ScoreV3: 5.3, VectorsV3: "CVSS:3.1/AV:N", Score: 4.3, Vectors: "AV:N/AC:M",
			FixedVersion: "3.1", Link: "https://x/1", Description: "d1", FeedRating: "moderate", PublishedTimestamp: 1700000000, LastModifiedTimestamp: 1700003600,
			CVEs: []string{"CVE-2024-1", ""}, CPEs: []string{"cpe:2.3:a:openssl:openssl:3.0"}, InBaseImage: true},
		{Name: "CVE-2024-2", PackageName: "zlib", PackageVersion: "1.2", Severity: "Critical", ScoreV3: 9.8},
		// duplicate of the first with a higher severity and another fix
		{Name: "CVE-2024-1", PackageName: "openssl", PackageVersion: "3.0", Severity: "High", FixedVersion: "3.2", Link: "https://x/1b"},
		{Name: "CVE-2024-0", PackageName: "zlib", PackageVersion: "1.2", Severity: "Critical", Link: ""},
		{Name: "CVE-2024-3", PackageName: "tar", PackageVersion: "1", Severity: "Low"},
	}}
	a := testArtifact
	rep := NewVulnReport(r, a, time.Date(2026, 1, 2, 3, 4, 5, 999, time.FixedZone("x", 3600)), Options{Scanner: testScanner})
	if rep.GeneratedAt != "2026-01-02T02:04:05Z" {
		t.Errorf("generated_at %s", rep.GeneratedAt)
	}
	if rep.Artifact.Repository != a.Repository || rep.Artifact.Digest != a.Digest || rep.Artifact.Tag != a.Tag || rep.Artifact.MimeType != a.MimeType || rep.Artifact.Size != 0 {
		t.Errorf("artifact %+v", rep.Artifact)
	}
	if rep.Scanner != testScanner || rep.Severity != SeverityCritical {
		t.Errorf("scanner %+v severity %s", rep.Scanner, rep.Severity)
	}
	var order []string
	for _, it := range rep.Vulnerabilities {
		order = append(order, it.ID+"/"+it.Severity)
	}
	if got := strings.Join(order, " "); got != "CVE-2024-0/Critical CVE-2024-2/Critical CVE-2024-1/High CVE-2024-3/Low" {
		t.Fatalf("order: %s", got)
	}
	if rep.Vulnerabilities[0].Links != nil {
		t.Errorf("empty link kept: %q", rep.Vulnerabilities[0].Links)
	}
	m := rep.Vulnerabilities[2]
	if m.FixVersion != "3.2, 3.1" {
		t.Errorf("merged fix versions %q", m.FixVersion)
	}
	if strings.Join(m.Links, " ") != "https://x/1b https://x/1" {
		t.Errorf("merged links %q", m.Links)
	}
	if m.Description != "d1" {
		t.Errorf("description lost in the merge: %q", m.Description)
	}
	// The winner (High) had no scores: the loser's are kept.
	if m.PreferredCVSS == nil || *m.PreferredCVSS.ScoreV3 != 5.3 || *m.PreferredCVSS.ScoreV2 != 4.3 {
		t.Fatalf("preferred_cvss %+v", m.PreferredCVSS)
	}
	item, _ := json.Marshal(m)
	for _, want := range []string{
		`"preferred_cvss":{"score_v3":5.3,"score_v2":4.3,"vector_v3":"CVSS:3.1/AV:N","vector_v2":"AV:N/AC:M"}`,
		`"vendor_attributes":{"CVSS":{"neuvector":{"V3Score":5.3,"V3Vector":"CVSS:3.1/AV:N","V2Score":4.3,"V2Vector":"AV:N/AC:M"}},` +
			`"neuvector":{"feed_rating":"moderate","in_base_image":true,"published":"2023-11-14T22:13:20Z","last_modified":"2023-11-14T23:13:20Z",` +
			`"cves":["CVE-2024-1"],"cpes":["cpe:2.3:a:openssl:openssl:3.0"]}}`,
	} {
		if !strings.Contains(string(item), want) {
			t.Errorf("item lacks %s\n%s", want, item)
		}
	}
	if bytes.Contains(item, []byte("cwe_ids")) || bytes.Contains(item, []byte("nvd")) {
		t.Errorf("cwe_ids or nvd present: %s", item)
	}
	// A finding without scores has neither preferred_cvss nor CVSS attributes.
	last, _ := json.Marshal(rep.Vulnerabilities[3])
	if bytes.Contains(last, []byte("preferred_cvss")) || bytes.Contains(last, []byte("vendor_attributes")) {
		t.Errorf("empty members present: %s", last)
	}
}

func TestNewVulnReportEmpty(t *testing.T) {
	for _, r := range []*ScanRepoReport{nil, {}, {Vulnerabilities: []Vulnerability{}}} {
		rep := NewVulnReport(r, testArtifact, genTime, Options{Scanner: testScanner})
		if rep.Severity != EmptyReportSeverity || rep.Vulnerabilities == nil || len(rep.Vulnerabilities) != 0 {
			t.Fatalf("empty report: %+v", rep)
		}
		doc := EncodeVulnReport(rep).Bytes()
		if !bytes.Contains(doc, []byte(`"severity":"Negligible","vulnerabilities":[]}`)) {
			t.Fatalf("empty report encoded as %s", doc)
		}
		validateOpenAPI(t, "scanner-adapter-openapi-v1.1.yaml", "HarborVulnerabilityReport", doc)
	}
}

// TestNewVulnReportDeterministic: the order of the controller's findings does
// not change a byte of the output.
func TestNewVulnReportDeterministic(t *testing.T) {
	r := genReport(11, 300)
	want := EncodeVulnReport(NewVulnReport(r, testArtifact, genTime, Options{Scanner: testScanner})).Bytes()
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		shuffled := *r
		shuffled.Vulnerabilities = append([]Vulnerability(nil), r.Vulnerabilities...)
		// duplicates with equal severity keep the earlier one's non-merged
		// fields, so shuffle only findings without duplicates
		rng.Shuffle(len(shuffled.Vulnerabilities), func(i, j int) {
			vi, vj := shuffled.Vulnerabilities[i], shuffled.Vulnerabilities[j]
			if sameFinding(&vi, r) || sameFinding(&vj, r) {
				return
			}
			shuffled.Vulnerabilities[i], shuffled.Vulnerabilities[j] = vj, vi
		})
		got := EncodeVulnReport(NewVulnReport(&shuffled, testArtifact, genTime, Options{Scanner: testScanner})).Bytes()
		if !bytes.Equal(got, want) {
			t.Fatal("shuffled input gives different bytes")
		}
	}
}

// sameFinding reports whether v's (id, package, version) occurs more than once.
func sameFinding(v *Vulnerability, r *ScanRepoReport) bool {
	n := 0
	for i := range r.Vulnerabilities {
		w := &r.Vulnerabilities[i]
		if w.Name == v.Name && w.PackageName == v.PackageName && w.PackageVersion == v.PackageVersion {
			n++
		}
	}
	return n > 1
}

func TestNoDuplicateItems(t *testing.T) {
	rep := NewVulnReport(genReport(13, 2000), testArtifact, genTime, Options{Scanner: testScanner})
	seen := map[string]bool{}
	for _, it := range rep.Vulnerabilities {
		k := it.ID + "\x00" + it.Package + "\x00" + it.Version
		if seen[k] {
			t.Fatalf("duplicate %s", k)
		}
		seen[k] = true
	}
	if len(rep.Vulnerabilities) >= 2000 {
		t.Fatalf("the generator's duplicates were not merged (%d items)", len(rep.Vulnerabilities))
	}
}

func TestScore64(t *testing.T) {
	for in, want := range map[float32]float64{9.8: 9.8, 7.5: 7.5, 0: 0, -1: 0, 4.3: 4.3, 10: 10, 0.1: 0.1} {
		if got := score64(in); got != want {
			t.Errorf("score64(%v) = %v, want %v", in, got, want)
		}
	}
}

// TestSpecValidatorRejects makes sure the validation above can fail.
func TestSpecValidatorRejects(t *testing.T) {
	s := openAPISchema(t, "scanner-adapter-openapi-v1.1.yaml", "HarborVulnerabilityReport")
	for _, doc := range []string{
		`{"severity":"None","vulnerabilities":[]}`,
		`{"vulnerabilities":[{"id":"x","preferred_cvss":{"score_v3":"9.8"}}]}`,
		`{"vulnerabilities":null}`,
	} {
		var v any
		_ = json.Unmarshal([]byte(doc), &v)
		if err := s.VisitJSON(v); err == nil {
			t.Errorf("%s validated", doc)
		}
	}
}
