package translate

import (
	"encoding/json"
	"strconv"
	"testing"
)

// Sizes of the benchmarks: reports with 50, 500 and 5,000 vulnerabilities.
var benchSizes = []int{50, 500, 5000}

// BenchmarkTranslateEncode is the worker's per-scan cost: controller report →
// Harbor report → JSON. "fast" is EncodeScanRepoReport (the fused path the
// worker uses), "two_step" is NewVulnReport + EncodeVulnReport, and
// "encoding_json" is NewVulnReport + encoding/json.Marshal of the same
// VulnReport, the baseline (target: fast ≥ 3× for 5,000). cpu-ns/op is the
// process's CPU time per op: on a loaded machine the steadier figure.
func BenchmarkTranslateEncode(b *testing.B) {
	for _, n := range benchSizes {
		r := genReport(uint64(n), n)
		size := len(EncodeVulnReport(NewVulnReport(r, testArtifact, genTime, Options{Scanner: testScanner})).Bytes())
		b.Run(strconv.Itoa(n)+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			cpu := startCPU()
			defer cpu.report(b)
			for b.Loop() {
				c := EncodeScanRepoReport(r, testArtifact, genTime, Options{Scanner: testScanner})
				if len(c.Head) == 0 {
					b.Fatal("empty")
				}
			}
		})
		b.Run(strconv.Itoa(n)+"/two_step", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			cpu := startCPU()
			defer cpu.report(b)
			for b.Loop() {
				c := EncodeVulnReport(NewVulnReport(r, testArtifact, genTime, Options{Scanner: testScanner}))
				if len(c.Head) == 0 {
					b.Fatal("empty")
				}
			}
		})
		b.Run(strconv.Itoa(n)+"/encoding_json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			cpu := startCPU()
			defer cpu.report(b)
			for b.Loop() {
				out, err := json.Marshal(NewVulnReport(r, testArtifact, genTime, Options{Scanner: testScanner}))
				if err != nil || len(out) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPipeline is the whole of the worker's JSON work for one scan:
// the controller's body decoded, translated and encoded. "fast" is
// DecodeScanRepoReport (goccy/go-json) + EncodeScanRepoReport;
// "encoding_json" does the same with encoding/json at both ends.
func BenchmarkPipeline(b *testing.B) {
	for _, n := range benchSizes {
		body, _ := json.Marshal(ScanRepoReportData{Report: genReport(uint64(n), n)})
		b.Run(strconv.Itoa(n)+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			cpu := startCPU()
			defer cpu.report(b)
			for b.Loop() {
				r, err := DecodeScanRepoReport(body)
				if err != nil {
					b.Fatal(err)
				}
				EncodeScanRepoReport(r, testArtifact, genTime, Options{Scanner: testScanner})
			}
		})
		b.Run(strconv.Itoa(n)+"/encoding_json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			cpu := startCPU()
			defer cpu.report(b)
			for b.Loop() {
				var d ScanRepoReportData
				if err := json.Unmarshal(body, &d); err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(NewVulnReport(d.Report, testArtifact, genTime, Options{Scanner: testScanner})); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncode is the encoding alone, on one translated report.
func BenchmarkEncode(b *testing.B) {
	for _, n := range benchSizes {
		rep := NewVulnReport(genReport(uint64(n), n), testArtifact, genTime, Options{Scanner: testScanner})
		size := len(AppendVulnReport(nil, rep))
		b.Run(strconv.Itoa(n)+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			cpu := startCPU()
			defer cpu.report(b)
			for b.Loop() {
				EncodeVulnReport(rep)
			}
		})
		b.Run(strconv.Itoa(n)+"/encoding_json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			cpu := startCPU()
			defer cpu.report(b)
			for b.Loop() {
				if _, err := json.Marshal(rep); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeScanRepoReport is the controller body decoding:
// goccy/go-json (what DecodeScanRepoReport uses) against encoding/json.
func BenchmarkDecodeScanRepoReport(b *testing.B) {
	for _, n := range benchSizes {
		body, _ := json.Marshal(ScanRepoReportData{Report: genReport(uint64(n), n)})
		b.Run(strconv.Itoa(n)+"/goccy", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			cpu := startCPU()
			defer cpu.report(b)
			for b.Loop() {
				if _, err := DecodeScanRepoReport(body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(strconv.Itoa(n)+"/encoding_json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			cpu := startCPU()
			defer cpu.report(b)
			for b.Loop() {
				var d ScanRepoReportData
				if err := json.Unmarshal(body, &d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSbom is the SBOM documents' cost (built once per scan and cached).
func BenchmarkSbom(b *testing.B) {
	r := genReport(3, 10)
	for _, mt := range []string{MediaSPDX, MediaCycloneDX} {
		b.Run(mt, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := EncodeSbomReport(r, testArtifact, mt, testScanner, genTime); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseReportAccept(b *testing.B) {
	for _, a := range []string{MimeVuln11, "text/html, application/vnd.security.vulnerability.report;version=1.1"} {
		accept := []byte(a)
		b.Run(strconv.Itoa(len(a)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _, _ = ParseReportAccept(accept)
			}
		})
	}
}

func BenchmarkDecodeScanRequest(b *testing.B) {
	body := []byte(harborVulnBody)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeScanRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}
