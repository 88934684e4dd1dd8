package sim

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

func encode(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGenerateReportDeterministic(t *testing.T) {
	for _, n := range []int{0, 1, 25, 300, 1500} {
		a := encode(t, GenerateReport(digestN(n+1), "p/a", "https://h/", n, "4.017", DefaultCVEDBCreateTime))
		b := encode(t, GenerateReport(digestN(n+1), "p/a", "https://h/", n, "4.017", DefaultCVEDBCreateTime))
		if !bytes.Equal(a, b) {
			t.Fatalf("vulns=%d: two encodings differ", n)
		}
		c := encode(t, GenerateReport(digestN(n+2), "p/a", "https://h/", n, "4.017", DefaultCVEDBCreateTime))
		if bytes.Equal(a, c) {
			t.Fatalf("vulns=%d: different digests gave the same report", n)
		}
	}
}

func TestGenerateReportShape(t *testing.T) {
	rep := GenerateReport(digestN(3), "p/a", "https://h/", 0, "4.017", "T")
	b := string(encode(t, rep))
	for _, want := range []string{`"signature_data":{}`, `"layers":[]`, `"vulnerabilities":[]`, `"os_scan_status":"OSScanStatusSupported"`, `"cvedb_create_time":"T"`} {
		if !strings.Contains(b, want) {
			t.Errorf("missing %s", want)
		}
	}
	if len(rep.ImageID) != 64 || rep.Size <= 0 || rep.CreatedAt == "" || rep.BaseOS == "" || len(rep.Modules) < 30 {
		t.Fatalf("metadata: %+v", rep)
	}
	if GenerateReport(digestN(3), "p/a", "", -5, "", "").Vulnerabilities == nil {
		t.Fatal("negative count")
	}
}

// Every vulnerability belongs to a module of the same package and version
// that lists it with a status matching its fixed version; every module CVE
// is a reported vulnerability; no CVE is listed twice.
func TestGenerateReportModulesConsistent(t *testing.T) {
	for i := range 60 {
		n := []int{5, 25, 300, 1200}[i%4]
		rep := GenerateReport(digestN(500+i), "p/a", "https://h/", n, "4.017", "T")
		if len(rep.Vulnerabilities) != n {
			t.Fatalf("%d vulns, want %d", len(rep.Vulnerabilities), n)
		}
		type key struct{ name, pkg string }
		mods := map[key]*translate.Module{}
		listed := map[string]string{}
		ecos := map[string]bool{}
		for j := range rep.Modules {
			m := &rep.Modules[j]
			if m.Name == "" || m.Version == "" || m.Source == "" {
				t.Fatalf("module %+v", m)
			}
			if m.Source != rep.BaseOS {
				ecos[m.Source] = true
				if m.File == "" || len(m.CPEs) != 1 {
					t.Fatalf("app module without file/CPE: %+v", m)
				}
			}
			mods[key{m.Name, m.Version}] = m
			for _, c := range m.CVEs {
				if _, dup := listed[c.Name]; dup {
					t.Fatalf("%s listed twice", c.Name)
				}
				listed[c.Name] = c.Status
			}
		}
		if len(ecos) != 2 {
			t.Fatalf("ecosystems %v", ecos)
		}
		if len(listed) != n {
			t.Fatalf("%d module CVEs for %d vulns", len(listed), n)
		}
		for _, v := range rep.Vulnerabilities {
			m := mods[key{v.PackageName, v.PackageVersion}]
			if m == nil {
				t.Fatalf("%s: no module %s %s", v.Name, v.PackageName, v.PackageVersion)
			}
			st, ok := listed[v.Name]
			if !ok {
				t.Fatalf("%s not in modules", v.Name)
			}
			if (v.FixedVersion != "") != (st == "fix exists") {
				t.Fatalf("%s: fixed %q status %q", v.Name, v.FixedVersion, st)
			}
			if (v.FileName != "") != (m.Source != rep.BaseOS) || v.FileName != m.File {
				t.Fatalf("%s: file %q in module %+v", v.Name, v.FileName, m)
			}
			if l := len(v.Description); l < 200 || l > 600 {
				t.Fatalf("%s: description of %d chars", v.Name, l)
			}
			want := severityOf(v.Score)
			if v.ScoreV3 > 0 {
				want = severityOf(v.ScoreV3)
			}
			if v.Severity != want || v.Vectors == "" || (v.ScoreV3 > 0) != (v.VectorsV3 != "") {
				t.Fatalf("%s: scores %+v", v.Name, v)
			}
			if v.PublishedTimestamp <= 0 || v.LastModifiedTimestamp < v.PublishedTimestamp || v.FeedRating == "" {
				t.Fatalf("%s: timestamps/feed %+v", v.Name, v)
			}
		}
	}
}

// The corner cases a translator must handle all occur.
func TestGenerateReportVariety(t *testing.T) {
	seen := map[string]int{}
	bases := map[string]bool{}
	for i := range 200 {
		rep := GenerateReport(digestN(i), "p/a", "", 25, "1", "T")
		bases[rep.BaseOS] = true
		for _, v := range rep.Vulnerabilities {
			switch {
			case v.Link == "":
				seen["empty link"]++
			case strings.HasPrefix(v.Link, "https://nvd.nist.gov/vuln/detail/"):
				seen["nvd link"]++
			}
			if v.FixedVersion == "" {
				seen["no fix"]++
			}
			if strings.Contains(v.FixedVersion, " OR ") {
				seen["OR"]++
			}
			if v.ScoreV3 == 0 {
				seen["v2 only"]++
			}
			if strings.HasPrefix(v.Name, "GHSA-") {
				seen["GHSA"]++
			}
			seen["feed "+v.FeedRating]++
		}
	}
	for _, k := range []string{"empty link", "nvd link", "no fix", "OR", "v2 only", "GHSA", "feed important", "feed moderate", "feed negligible", "feed High"} {
		if seen[k] == 0 {
			t.Errorf("no %q in 5,000 vulnerabilities", k)
		}
	}
	if len(bases) != numBaseOSes {
		t.Errorf("base OSes %v", bases)
	}
}

// Images of one base OS share CVEs, as images of a common base do.
func TestGenerateReportSharedBase(t *testing.T) {
	byBase := map[string][]*translate.ScanRepoReport{}
	for i := range 100 {
		rep := GenerateReport(digestN(i), "p/a", "", 25, "1", "T")
		byBase[rep.BaseOS] = append(byBase[rep.BaseOS], rep)
	}
	shared, pairs := 0, 0
	for _, reps := range byBase {
		for i := 1; i < len(reps); i++ {
			names := map[string]bool{}
			for _, v := range reps[0].Vulnerabilities {
				names[v.Name] = true
			}
			for _, v := range reps[i].Vulnerabilities {
				if names[v.Name] && v.FileName == "" {
					shared++
				}
			}
			pairs++
		}
	}
	if pairs == 0 || shared < pairs*2 {
		t.Fatalf("%d shared OS CVEs over %d pairs of same-base images", shared, pairs)
	}
}
