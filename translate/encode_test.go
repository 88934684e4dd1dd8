package translate

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var genTime = time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC)

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		"", "plain", `quote " backslash \ slash /`, "<script>&amp;</script>",
		"\x00\x01\x1f\x7f\n\r\t\b\f", "é ü 漢字 🎉", "\u2028 line \u2029 para",
		"bad \xff utf8 \xc3", "\xed\xa0\x80 surrogate", "\xf4\x90\x80\x80 too big", "ends with \xe2\x82",
	}
	for _, s := range cases {
		want, _ := json.Marshal(s)
		got := AppendJSONString(nil, s)
		if !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	fs := []float64{0, 7.5, 9.8, 10, 0.1, 1e-7, 1e21, 123456789, -3.25, 5e-324, math.MaxFloat64, 999999.9, 0.30000000000000004}
	for n := range 100001 {
		// every one-decimal value up to 10,000, and its neighbours
		f := float64(n) / 10
		fs = append(fs, f, math.Nextafter(f, 0), math.Nextafter(f, 1e9))
	}
	for _, f := range fs {
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f, 64); !bytes.Equal(got, want) {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
}

// TestEncodeMatchesEncodingJSON: for translated reports, the fast encoder
// writes exactly encoding/json's bytes.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	for _, n := range []int{0, 1, 2, 50, 500} {
		for _, feed := range []bool{false, true} {
			rep := NewVulnReport(genReport(uint64(n+1), n), testArtifact, genTime, Options{Scanner: testScanner, FeedBasedSeverity: feed})
			want, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			got := EncodeVulnReport(rep).Bytes()
			if !bytes.Equal(got, want) {
				i := firstDiff(got, want)
				t.Fatalf("n=%d feed=%v: differs at %d:\n got …%s\nwant …%s", n, feed, i, around(got, i), around(want, i))
			}
			if app := AppendVulnReport([]byte("x"), rep); !bytes.Equal(app[1:], want) {
				t.Fatalf("AppendVulnReport differs from EncodeVulnReport")
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func around(b []byte, i int) []byte { return b[max(0, i-40):min(len(b), i+40)] }

func TestChunks(t *testing.T) {
	rep := NewVulnReport(genReport(7, 40), testArtifact, genTime, Options{Scanner: testScanner})
	c := EncodeVulnReport(rep)
	if len(c.Items) != len(rep.Vulnerabilities)-1 {
		t.Fatalf("items: %d chunks for %d vulnerabilities", len(c.Items), len(rep.Vulnerabilities))
	}
	if want := appendItem(appendReportHead(nil, rep), &rep.Vulnerabilities[0]); !bytes.Equal(c.Head, want) {
		t.Fatalf("head: got %s, want %s", c.Head, want)
	}
	for i, it := range c.Items {
		want := append([]byte{','}, appendItem(nil, &rep.Vulnerabilities[i+1])...)
		if !bytes.Equal(it, want) {
			t.Fatalf("item %d: got %s, want %s", i, it, want)
		}
		if cap(it) != len(it) {
			t.Fatalf("item %d: capacity %d beyond its length %d: an append would clobber the next chunk", i, cap(it), len(it))
		}
	}
	if string(c.Tail) != "]}" {
		t.Fatalf("tail %q", c.Tail)
	}
	if c.Len() != len(c.Bytes()) || !json.Valid(c.Bytes()) {
		t.Fatal("Len/Bytes/validity")
	}

	// The same finding in two reports encodes to the same chunk.
	other := NewVulnReport(genReport(7, 40), Artifact{Repository: "x/y", Digest: "sha256:" + strings.Repeat("1", 64)}, genTime.Add(time.Hour), Options{Scanner: testScanner})
	c2 := EncodeVulnReport(other)
	if bytes.Equal(c.Head, c2.Head) {
		t.Fatal("heads of different artifacts are equal")
	}
	for i := range c.Items {
		if !bytes.Equal(c.Items[i], c2.Items[i]) {
			t.Fatalf("item %d differs between reports with the same findings", i)
		}
	}

	empty := EncodeVulnReport(&VulnReport{Severity: EmptyReportSeverity})
	if len(empty.Items) != 0 || len(empty.Tail) != 0 || !bytes.HasSuffix(empty.Head, []byte(`"vulnerabilities":[]}`)) {
		t.Fatalf("empty report: %s | %d | %s", empty.Head, len(empty.Items), empty.Tail)
	}
}

// randString returns valid UTF-8 with the characters that need escaping.
func randString(r *rand.Rand) string {
	alphabet := []rune("abcXYZ019 \"\\/<>&\n\t\x00\x1fé漢🎉\u2028\u2029")
	n := r.IntN(20)
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(rs)
}

func randValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(7); {
	case k == 0:
		return nil
	case k == 1:
		return r.IntN(2) == 0
	case k == 2:
		return []float64{0, 7.5, 1e-7, 1e22, -2.5, 123456.789}[r.IntN(6)]
	case k == 3 || depth > 2:
		return randString(r)
	case k == 4:
		a := make([]any, r.IntN(3))
		for i := range a {
			a[i] = randValue(r, depth+1)
		}
		return a
	default:
		m := map[string]any{}
		for range r.IntN(4) {
			m[randString(r)] = randValue(r, depth+1)
		}
		return m
	}
}

func randStrings(r *rand.Rand) []string {
	if r.IntN(2) == 0 {
		return nil
	}
	s := make([]string, 1+r.IntN(3))
	for i := range s {
		s[i] = randString(r)
	}
	return s
}

func randReport(r *rand.Rand) *VulnReport {
	rep := &VulnReport{
		GeneratedAt: randString(r),
		Artifact:    Artifact{Repository: randString(r), Digest: randString(r), Tag: randString(r), MimeType: randString(r), Size: r.Int64N(3)},
		Scanner:     Scanner{Name: randString(r), Vendor: randString(r), Version: randString(r)},
		Severity:    randString(r),
	}
	rep.Vulnerabilities = make([]VulnItem, r.IntN(6))
	for i := range rep.Vulnerabilities {
		it := VulnItem{
			ID: randString(r), Package: randString(r), Version: randString(r), FixVersion: randString(r),
			Severity: randString(r), Description: randString(r), Links: randStrings(r), CweIDs: randStrings(r),
		}
		if r.IntN(2) == 0 {
			c := &CVSS{VectorV3: randString(r), VectorV2: randString(r)}
			if r.IntN(2) == 0 {
				f := float64(r.IntN(101)) / 10
				c.ScoreV3 = &f
			}
			if r.IntN(2) == 0 {
				f := float64(r.IntN(101)) / 10
				c.ScoreV2 = &f
			}
			it.PreferredCVSS = c
		}
		if r.IntN(2) == 0 {
			it.VendorAttributes = map[string]any{"CVSS": randValue(r, 0), randString(r): randValue(r, 0)}
		}
		rep.Vulnerabilities[i] = it
	}
	return rep
}

// TestEncodeRoundTripProperty: whatever the report, encoding/json decodes
// the fast encoder's output into an equal VulnReport.
func TestEncodeRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		rep := randReport(r)
		out := EncodeVulnReport(rep).Bytes()
		var back VulnReport
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, out)
		}
		if !reflect.DeepEqual(normalizeReport(rep), &back) {
			t.Fatalf("case %d: round trip differs\n in: %#v\nout: %#v\njson: %s", i, rep, &back, out)
		}
		if !utf8.Valid(out) {
			t.Fatalf("case %d: invalid UTF-8 output", i)
		}
	}
}

// normalizeReport maps what JSON cannot tell apart: empty optional slices
// and maps are omitted, so they come back nil.
func normalizeReport(rep *VulnReport) *VulnReport {
	c := *rep
	c.Vulnerabilities = make([]VulnItem, len(rep.Vulnerabilities))
	for i, it := range rep.Vulnerabilities {
		if len(it.Links) == 0 {
			it.Links = nil
		}
		if len(it.CweIDs) == 0 {
			it.CweIDs = nil
		}
		if len(it.VendorAttributes) == 0 {
			it.VendorAttributes = nil
		}
		c.Vulnerabilities[i] = it
	}
	return &c
}

func TestVulnReportValidatesAgainstSpec(t *testing.T) {
	for _, n := range []int{0, 3, 200} {
		for _, feed := range []bool{false, true} {
			rep := NewVulnReport(genReport(uint64(n+5), n), testArtifact, genTime, Options{Scanner: testScanner, FeedBasedSeverity: feed})
			doc := EncodeVulnReport(rep).Bytes()
			validateOpenAPI(t, "scanner-adapter-openapi-v1.1.yaml", "HarborVulnerabilityReport", doc)
			validateOpenAPI(t, "scanner-adapter-openapi-v1.2.yaml", "HarborVulnerabilityReport", doc)
		}
	}
}

// TestEncodeScanRepoReportMatches: the fused path writes exactly what
// NewVulnReport + EncodeVulnReport write, chunk for chunk.
func TestEncodeScanRepoReportMatches(t *testing.T) {
	check := func(name string, r *ScanRepoReport, o Options) {
		t.Helper()
		want := EncodeVulnReport(NewVulnReport(r, testArtifact, genTime, o))
		got := EncodeScanRepoReport(r, testArtifact, genTime, o)
		if !bytes.Equal(got.Head, want.Head) || !bytes.Equal(got.Tail, want.Tail) || len(got.Items) != len(want.Items) {
			t.Fatalf("%s: head/tail/count differ:\n got %s … %s (%d)\nwant %s … %s (%d)", name, around(got.Head, 0), got.Tail, len(got.Items), around(want.Head, 0), want.Tail, len(want.Items))
		}
		for i := range got.Items {
			if !bytes.Equal(got.Items[i], want.Items[i]) {
				t.Fatalf("%s: item %d:\n got %s\nwant %s", name, i, got.Items[i], want.Items[i])
			}
			if cap(got.Items[i]) != len(got.Items[i]) {
				t.Fatalf("%s: item %d capacity beyond length", name, i)
			}
		}
	}
	for _, n := range []int{0, 1, 2, 7, 60, 1500} {
		for _, feed := range []bool{false, true} {
			check("gen", genReport(uint64(100+n), n), Options{Scanner: testScanner, FeedBasedSeverity: feed})
		}
	}
	check("nil", nil, Options{})
	edge := &ScanRepoReport{Vulnerabilities: []Vulnerability{
		{Name: "A", PackageName: "p", PackageVersion: "1"},
		{Name: "A", PackageName: "p", PackageVersion: "1", Severity: "Critical", CVEs: []string{"", "x"}, Link: "l"},
		{Name: "A", PackageName: "p", PackageVersion: "1", Severity: "Critical", FixedVersion: "2", Link: "l2", ScoreV3: 9.9},
		{Name: "B", PackageName: "p", PackageVersion: "1", CVEs: []string{""}, CPEs: []string{"", ""}},
		{Name: "C", Vectors: "AV:N", FeedRating: "none"},
		{Name: "D", Score: 5, InBaseImage: true, Description: "<&>\u2028\xff"},
		{Name: "E", PublishedTimestamp: 1, FileName: "/f"},
	}}
	for _, feed := range []bool{false, true} {
		check("edge", edge, Options{FeedBasedSeverity: feed})
	}
}
