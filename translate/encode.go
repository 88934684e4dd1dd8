package translate

import "strconv"

// Chunks is an encoded JSON document cut at item boundaries: Head (which
// includes the first item, if any) + Items (each starting with ',') + Tail
// concatenated is the document. Equal items encode to equal chunks, so that
// a cache can store the items that reports share once.
type Chunks struct {
	Head  []byte
	Items [][]byte
	Tail  []byte
}

// Len is the length of the document.
func (c Chunks) Len() int {
	n := len(c.Head) + len(c.Tail)
	for _, it := range c.Items {
		n += len(it)
	}
	return n
}

// Bytes returns the document (a new slice).
func (c Chunks) Bytes() []byte {
	out := make([]byte, 0, c.Len())
	out = append(out, c.Head...)
	for _, it := range c.Items {
		out = append(out, it...)
	}
	return append(out, c.Tail...)
}

// EncodeVulnReport encodes rep (what encoding/json.Marshal would produce,
// except that a nil vulnerabilities slice is written [] as the schema wants
// an array). The chunks share one backing array.
func EncodeVulnReport(rep *VulnReport) Chunks {
	buf := make([]byte, 0, estimateSize(rep))
	buf = appendReportHead(buf, rep)
	var c Chunks
	if len(rep.Vulnerabilities) == 0 {
		buf = append(buf, ']', '}')
		c.Head = buf
		c.Tail = buf[len(buf):]
		return c
	}
	buf = appendItem(buf, &rep.Vulnerabilities[0])
	headEnd := len(buf)
	ends := make([]int, 0, len(rep.Vulnerabilities)-1)
	for i := 1; i < len(rep.Vulnerabilities); i++ {
		buf = append(buf, ',')
		buf = appendItem(buf, &rep.Vulnerabilities[i])
		ends = append(ends, len(buf))
	}
	buf = append(buf, ']', '}')
	// Slice only once buf has stopped growing; caps are clipped so that an
	// append to one chunk can never write into the next.
	c.Head = buf[:headEnd:headEnd]
	c.Items = make([][]byte, len(ends))
	start := headEnd
	for i, end := range ends {
		c.Items[i] = buf[start:end:end]
		start = end
	}
	c.Tail = buf[start:]
	return c
}

// AppendVulnReport appends the encoded rep to dst.
func AppendVulnReport(dst []byte, rep *VulnReport) []byte {
	dst = appendReportHead(dst, rep)
	for i := range rep.Vulnerabilities {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendItem(dst, &rep.Vulnerabilities[i])
	}
	return append(dst, ']', '}')
}

// estimateSize guesses the encoded size (a little over, for escapes) so
// that the buffer is allocated once and not grown by doubling.
func estimateSize(rep *VulnReport) int {
	n := 512 + len(rep.GeneratedAt) + len(rep.Artifact.Repository) + len(rep.Artifact.Digest) + len(rep.Artifact.Tag) + len(rep.Artifact.MimeType)
	for i := range rep.Vulnerabilities {
		it := &rep.Vulnerabilities[i]
		n += 96 + len(it.ID) + len(it.Package) + len(it.Version) + len(it.FixVersion) + len(it.Severity) + len(it.Description)
		for _, l := range it.Links {
			n += len(l) + 3
		}
		if c := it.PreferredCVSS; c != nil {
			// the vectors appear again in the vendor attributes
			n += 128 + 2*(len(c.VectorV3)+len(c.VectorV2))
		}
		if len(it.VendorAttributes) > 0 {
			n += 160
			if f, ok := it.VendorAttributes[VendorName].(*NeuVectorFacts); ok && f != nil {
				n += 64 + len(f.FeedRating) + len(f.FileName)
				for _, s := range f.CVEs {
					n += len(s) + 3
				}
				for _, s := range f.CPEs {
					n += len(s) + 3
				}
			} else {
				n += 256
			}
		}
	}
	return n + n/16
}

// appendReportHead writes everything up to and including `"vulnerabilities":[`.
func appendReportHead(dst []byte, rep *VulnReport) []byte {
	dst = append(dst, `{"generated_at":`...)
	dst = AppendJSONString(dst, rep.GeneratedAt)
	dst = append(dst, `,"artifact":`...)
	dst = appendArtifact(dst, &rep.Artifact)
	dst = append(dst, `,"scanner":`...)
	dst = appendScanner(dst, &rep.Scanner)
	dst = append(dst, `,"severity":`...)
	dst = AppendJSONString(dst, rep.Severity)
	return append(dst, `,"vulnerabilities":[`...)
}

func appendArtifact(dst []byte, a *Artifact) []byte {
	dst = append(dst, `{"repository":`...)
	dst = AppendJSONString(dst, a.Repository)
	dst = append(dst, `,"digest":`...)
	dst = AppendJSONString(dst, a.Digest)
	if a.Tag != "" {
		dst = append(dst, `,"tag":`...)
		dst = AppendJSONString(dst, a.Tag)
	}
	if a.MimeType != "" {
		dst = append(dst, `,"mime_type":`...)
		dst = AppendJSONString(dst, a.MimeType)
	}
	if a.Size != 0 {
		dst = append(dst, `,"size":`...)
		dst = strconv.AppendInt(dst, a.Size, 10)
	}
	return append(dst, '}')
}

func appendScanner(dst []byte, s *Scanner) []byte {
	dst = append(dst, `{"name":`...)
	dst = AppendJSONString(dst, s.Name)
	dst = append(dst, `,"vendor":`...)
	dst = AppendJSONString(dst, s.Vendor)
	dst = append(dst, `,"version":`...)
	dst = AppendJSONString(dst, s.Version)
	return append(dst, '}')
}

func appendItem(dst []byte, it *VulnItem) []byte {
	dst = append(dst, `{"id":`...)
	dst = AppendJSONString(dst, it.ID)
	dst = append(dst, `,"package":`...)
	dst = AppendJSONString(dst, it.Package)
	dst = append(dst, `,"version":`...)
	dst = AppendJSONString(dst, it.Version)
	if it.FixVersion != "" {
		dst = append(dst, `,"fix_version":`...)
		dst = AppendJSONString(dst, it.FixVersion)
	}
	dst = append(dst, `,"severity":`...)
	dst = AppendJSONString(dst, it.Severity)
	if it.Description != "" {
		dst = append(dst, `,"description":`...)
		dst = AppendJSONString(dst, it.Description)
	}
	if len(it.Links) > 0 {
		dst = append(dst, `,"links":`...)
		dst = appendStrings(dst, it.Links)
	}
	if it.PreferredCVSS != nil {
		dst = append(dst, `,"preferred_cvss":`...)
		dst = appendCVSS(dst, it.PreferredCVSS)
	}
	if len(it.CweIDs) > 0 {
		dst = append(dst, `,"cwe_ids":`...)
		dst = appendStrings(dst, it.CweIDs)
	}
	if len(it.VendorAttributes) > 0 {
		mark := len(dst)
		dst = append(dst, `,"vendor_attributes":`...)
		var ok bool
		if dst, ok = appendMap(dst, it.VendorAttributes); !ok {
			// A value without a JSON form (NaN, a channel…) drops the
			// attributes rather than the report.
			dst = dst[:mark]
		}
	}
	return append(dst, '}')
}

func appendCVSS(dst []byte, c *CVSS) []byte {
	dst = append(dst, '{')
	n := len(dst)
	if c.ScoreV3 != nil && validFloat(*c.ScoreV3) {
		dst = append(dst, `"score_v3":`...)
		dst = appendFloat(dst, *c.ScoreV3, 64)
	}
	if c.ScoreV2 != nil && validFloat(*c.ScoreV2) {
		dst = comma(dst, n)
		dst = append(dst, `"score_v2":`...)
		dst = appendFloat(dst, *c.ScoreV2, 64)
	}
	if c.VectorV3 != "" {
		dst = comma(dst, n)
		dst = append(dst, `"vector_v3":`...)
		dst = AppendJSONString(dst, c.VectorV3)
	}
	if c.VectorV2 != "" {
		dst = comma(dst, n)
		dst = append(dst, `"vector_v2":`...)
		dst = AppendJSONString(dst, c.VectorV2)
	}
	return append(dst, '}')
}

func validFloat(f float64) bool { return f == f && f-f == 0 }

func (c *VendorCVSS) appendJSON(dst []byte) []byte {
	if c == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '{')
	n := len(dst)
	if c.V3Score != 0 && validFloat(c.V3Score) {
		dst = append(dst, `"V3Score":`...)
		dst = appendFloat(dst, c.V3Score, 64)
	}
	if c.V3Vector != "" {
		dst = comma(dst, n)
		dst = append(dst, `"V3Vector":`...)
		dst = AppendJSONString(dst, c.V3Vector)
	}
	if c.V2Score != 0 && validFloat(c.V2Score) {
		dst = comma(dst, n)
		dst = append(dst, `"V2Score":`...)
		dst = appendFloat(dst, c.V2Score, 64)
	}
	if c.V2Vector != "" {
		dst = comma(dst, n)
		dst = append(dst, `"V2Vector":`...)
		dst = AppendJSONString(dst, c.V2Vector)
	}
	return append(dst, '}')
}

func (s *CVSSBySource) appendJSON(dst []byte) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	if s.NeuVector == nil {
		return append(dst, '{', '}')
	}
	dst = append(dst, `{"neuvector":`...)
	dst = s.NeuVector.appendJSON(dst)
	return append(dst, '}')
}

func (f *NeuVectorFacts) appendJSON(dst []byte) []byte {
	if f == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '{')
	n := len(dst)
	if f.FeedRating != "" {
		dst = append(dst, `"feed_rating":`...)
		dst = AppendJSONString(dst, f.FeedRating)
	}
	if f.InBaseImage {
		dst = comma(dst, n)
		dst = append(dst, `"in_base_image":true`...)
	}
	if f.Published != "" {
		dst = comma(dst, n)
		dst = append(dst, `"published":`...)
		dst = AppendJSONString(dst, f.Published)
	}
	if f.LastModified != "" {
		dst = comma(dst, n)
		dst = append(dst, `"last_modified":`...)
		dst = AppendJSONString(dst, f.LastModified)
	}
	if len(f.CVEs) > 0 {
		dst = comma(dst, n)
		dst = append(dst, `"cves":`...)
		dst = appendStrings(dst, f.CVEs)
	}
	if len(f.CPEs) > 0 {
		dst = comma(dst, n)
		dst = append(dst, `"cpes":`...)
		dst = appendStrings(dst, f.CPEs)
	}
	if f.FileName != "" {
		dst = comma(dst, n)
		dst = append(dst, `"file_name":`...)
		dst = AppendJSONString(dst, f.FileName)
	}
	return append(dst, '}')
}

// comma writes a separator unless dst is still at the object's start n.
func comma(dst []byte, n int) []byte {
	if len(dst) > n {
		return append(dst, ',')
	}
	return dst
}
