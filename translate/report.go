package translate

import (
	"math"
	"slices"
	"strings"
	"time"
)

// VendorName is the key of NeuVector's facts in vendor_attributes, and the
// CVSS source name: the scores come from NeuVector's CVE database, which is
// not NVD.
const VendorName = "neuvector"

// Options shape report translation.
type Options struct {
	Scanner           Scanner
	FeedBasedSeverity bool // USE_FEED_BASED_SEVERITY
}

// VendorCVSS is vendor_attributes.CVSS.neuvector: the scores as NeuVector's
// CVE database has them. Harbor reads CVSS.<vendor>.V3Score when
// preferred_cvss.score_v3 is absent.
type VendorCVSS struct {
	V3Score  float64 `json:"V3Score,omitempty"`
	V3Vector string  `json:"V3Vector,omitempty"`
	V2Score  float64 `json:"V2Score,omitempty"`
	V2Vector string  `json:"V2Vector,omitempty"`
}

// CVSSBySource is vendor_attributes.CVSS.
type CVSSBySource struct {
	NeuVector *VendorCVSS `json:"neuvector,omitempty"`
}

// NeuVectorFacts is vendor_attributes.neuvector: what NeuVector knows about a
// finding beyond the spec's fields. Empty members are omitted.
type NeuVectorFacts struct {
	FeedRating   string   `json:"feed_rating,omitempty"`
	InBaseImage  bool     `json:"in_base_image,omitempty"`
	Published    string   `json:"published,omitempty"`     // RFC 3339
	LastModified string   `json:"last_modified,omitempty"` // RFC 3339
	CVEs         []string `json:"cves,omitempty"`
	CPEs         []string `json:"cpes,omitempty"`
	FileName     string   `json:"file_name,omitempty"`
}

func (c *VendorCVSS) empty() bool {
	return c.V3Score == 0 && c.V3Vector == "" && c.V2Score == 0 && c.V2Vector == ""
}

func (f *NeuVectorFacts) empty() bool {
	return f.FeedRating == "" && !f.InBaseImage && f.Published == "" && f.LastModified == "" &&
		len(f.CVEs) == 0 && len(f.CPEs) == 0 && f.FileName == ""
}

// EmptyReportSeverity is the top-level severity of a report without
// vulnerabilities. The spec's enum has no "None"; Harbor normalises
// "Negligible" to its internal None ("no vulnerabilities", what its UI shows
// for a clean image), whereas "Unknown" would claim a finding of unknown
// priority. Harbor recomputes the overall severity from the items anyway.
const EmptyReportSeverity = SeverityNegligible

// NewVulnReport translates a controller report into Harbor's report:
// artifact from the request (the spec's four fields), one item per
// (id, package, version) (duplicates merged, keeping the higher severity and
// every distinct fix version), items ordered by severity (highest first),
// then id, package and version, so that equal inputs encode to equal bytes.
// generated_at is generatedAt in UTC, to the second.
func NewVulnReport(r *ScanRepoReport, a Artifact, generatedAt time.Time, o Options) *VulnReport {
	rep := &VulnReport{
		GeneratedAt: generatedAt.UTC().Truncate(time.Second).Format(time.RFC3339),
		Artifact: Artifact{
			Repository: a.Repository,
			Digest:     a.Digest,
			Tag:        a.Tag,
			MimeType:   a.MimeType,
		},
		Scanner:         o.Scanner,
		Vulnerabilities: []VulnItem{},
	}
	if r == nil || len(r.Vulnerabilities) == 0 {
		rep.Severity = EmptyReportSeverity
		return rep
	}
	n := len(r.Vulnerabilities)
	items := make([]VulnItem, 0, n)
	ib := newItemBuilder(n, o)
	stamps := formatStamps(r.Vulnerabilities)
	seen := make(map[findingKey]int, n)
	for i := range r.Vulnerabilities {
		v := &r.Vulnerabilities[i]
		it := ib.build(v, stamps[2*i], stamps[2*i+1])
		k := findingKey{it.ID, it.Package, it.Version}
		if j, dup := seen[k]; dup {
			items[j] = mergeItems(items[j], it)
			continue
		}
		seen[k] = len(items)
		items = append(items, it)
	}
	rep.Vulnerabilities, rep.Severity = sortItems(items)
	return rep
}

// findingKey identifies a finding as Harbor does: (id, package, version).
type findingKey struct{ id, pkg, ver string }

// findingOrder is the order of a report's findings, for both encoding
// paths: severity rank descending, then id, package, version.
func findingOrder(ra int, ida, pkga, vera string, rb int, idb, pkgb, verb string) int {
	if ra != rb {
		return rb - ra
	}
	if c := strings.Compare(ida, idb); c != 0 {
		return c
	}
	if c := strings.Compare(pkga, pkgb); c != 0 {
		return c
	}
	return strings.Compare(vera, verb)
}

// itemBuilder translates findings into items, taking the items' parts from
// one allocation per kind for the whole report instead of one per item.
type itemBuilder struct {
	o      Options
	cvss   []CVSS
	vendor []VendorCVSS
	source []CVSSBySource
	facts  []NeuVectorFacts
	scores []float64
	links  []string
	next   int
}

func newItemBuilder(n int, o Options) *itemBuilder {
	return &itemBuilder{
		o:      o,
		cvss:   make([]CVSS, n),
		vendor: make([]VendorCVSS, n),
		source: make([]CVSSBySource, n),
		facts:  make([]NeuVectorFacts, n),
		scores: make([]float64, 2*n),
		links:  make([]string, n),
	}
}

// scores returns a finding's CVSS v3 and v2 scores as float64 and the one
// that severities derive from (v3 when known).
func scores(v *Vulnerability) (v3, v2, score float64) {
	v3, v2 = score64(v.ScoreV3), score64(v.Score)
	score = v3
	if score <= 0 {
		score = v2
	}
	return v3, v2, score
}

// build translates one finding (pub, mod: its formatted timestamps).
func (b *itemBuilder) build(v *Vulnerability, pub, mod string) VulnItem {
	i := b.next
	b.next++
	v3, v2, score := scores(v)
	it := VulnItem{
		ID:          v.Name,
		Package:     v.PackageName,
		Version:     v.PackageVersion,
		FixVersion:  v.FixedVersion,
		Severity:    itemSeverity(v, b.o.FeedBasedSeverity, score),
		Description: v.Description,
	}
	if v.Link != "" {
		b.links[i] = v.Link
		it.Links = b.links[i : i+1 : i+1]
	}
	if v3 > 0 || v2 > 0 || v.VectorsV3 != "" || v.Vectors != "" {
		c := &b.cvss[i]
		if v3 > 0 {
			b.scores[2*i] = v3
			c.ScoreV3 = &b.scores[2*i]
		}
		if v2 > 0 {
			b.scores[2*i+1] = v2
			c.ScoreV2 = &b.scores[2*i+1]
		}
		c.VectorV3, c.VectorV2 = v.VectorsV3, v.Vectors
		it.PreferredCVSS = c
	}
	vc := &b.vendor[i]
	*vc = VendorCVSS{V3Score: v3, V3Vector: v.VectorsV3, V2Score: v2, V2Vector: v.Vectors}
	f := &b.facts[i]
	*f = newFacts(v, pub, mod)
	if !vc.empty() || !f.empty() {
		it.VendorAttributes = make(map[string]any, 2)
		if !vc.empty() {
			b.source[i].NeuVector = vc
			it.VendorAttributes["CVSS"] = &b.source[i]
		}
		if !f.empty() {
			it.VendorAttributes[VendorName] = f
		}
	}
	return it
}

func newFacts(v *Vulnerability, pub, mod string) NeuVectorFacts {
	return NeuVectorFacts{
		FeedRating:   v.FeedRating,
		InBaseImage:  v.InBaseImage,
		Published:    pub,
		LastModified: mod,
		CVEs:         nonEmpty(v.CVEs),
		CPEs:         nonEmpty(v.CPEs),
		FileName:     v.FileName,
	}
}

// sortItems orders the items (see compareItems) and returns the highest
// severity. It sorts small indices rather than moving the large items
// around, then places each item once.
func sortItems(items []VulnItem) ([]VulnItem, string) {
	type entry struct {
		rank int
		i    int
	}
	order := make([]entry, len(items))
	top := rankUnknown
	for i := range items {
		rk := SeverityRank(items[i].Severity)
		order[i] = entry{rk, i}
		top = max(top, rk)
	}
	slices.SortFunc(order, func(a, b entry) int {
		x, y := &items[a.i], &items[b.i]
		return findingOrder(a.rank, x.ID, x.Package, x.Version, b.rank, y.ID, y.Package, y.Version)
	})
	sorted := make([]VulnItem, len(items))
	for j, e := range order {
		sorted[j] = items[e.i]
	}
	return sorted, severityByRank[top]
}

// mergeItems merges two findings of one (id, package, version): the one of
// higher severity wins (the earlier on a tie), links are united and distinct
// fix versions joined, so that no fix is lost.
func mergeItems(a, b VulnItem) VulnItem {
	w, l := a, b
	if SeverityRank(b.Severity) > SeverityRank(a.Severity) {
		w, l = b, a
	}
	w.FixVersion = joinDistinct(w.FixVersion, l.FixVersion)
	for _, link := range l.Links {
		if !slices.Contains(w.Links, link) {
			w.Links = append(slices.Clip(w.Links), link)
		}
	}
	if w.Description == "" {
		w.Description = l.Description
	}
	if w.PreferredCVSS == nil {
		w.PreferredCVSS = l.PreferredCVSS
	}
	if w.VendorAttributes == nil {
		w.VendorAttributes = l.VendorAttributes
	}
	return w
}

// joinDistinct joins two comma-separated version lists without repeats.
func joinDistinct(a, b string) string {
	if b == "" || a == b {
		return a
	}
	if a == "" {
		return b
	}
	have := strings.Split(a, ", ")
	for _, v := range strings.Split(b, ", ") {
		if v != "" && !slices.Contains(have, v) {
			have = append(have, v)
		}
	}
	return strings.Join(have, ", ")
}

// score64 turns the controller's float32 score into the float64 of its
// decimal form (7.5, not 7.500000190734863): CVSS scores have one decimal,
// and rounding at 1e-6 is below float32 precision for scores up to 10.
func score64(f float32) float64 {
	if f <= 0 || math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return 0
	}
	d := float64(f)
	if d < 1e6 {
		d = math.Round(d*1e6) / 1e6
	}
	return d
}

// formatStamps formats the published and last-modified timestamps (unix
// seconds; 0 = unknown) of every finding as RFC 3339: stamps[2i] and
// stamps[2i+1]. They are substrings of one string: three allocations per
// report instead of two per finding.
func formatStamps(vs []Vulnerability) []string {
	buf := make([]byte, 0, 2*len(vs)*len("2006-01-02T15:04:05Z"))
	ends := make([]int, 2*len(vs))
	for i := range vs {
		for j, sec := range [2]int64{vs[i].PublishedTimestamp, vs[i].LastModifiedTimestamp} {
			if sec > 0 {
				buf = time.Unix(sec, 0).UTC().AppendFormat(buf, time.RFC3339)
			}
			ends[2*i+j] = len(buf)
		}
	}
	all := string(buf)
	stamps := make([]string, len(ends))
	start := 0
	for k, end := range ends {
		stamps[k] = all[start:end]
		start = end
	}
	return stamps
}

// nonEmpty drops empty strings (and returns nil for nothing left).
func nonEmpty(ss []string) []string {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	if n == len(ss) {
		if n == 0 {
			return nil
		}
		return ss
	}
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
