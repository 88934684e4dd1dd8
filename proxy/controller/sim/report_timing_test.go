package sim

import (
	"encoding/json"
	"testing"
	"time"
)

var rep2time = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func benchGenerate(b *testing.B, vulns int) {
	appUniverseInit()
	for i := range numBaseOSes {
		universeFor(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		GenerateReport(digestN(i), "library/app", "https://harbor.example.com/", vulns, "4.017", DefaultCVEDBCreateTime)
		i++
	}
}

func BenchmarkGenerateReport25(b *testing.B)  { benchGenerate(b, 25) }
func BenchmarkGenerateReport300(b *testing.B) { benchGenerate(b, 300) }

// Encoding is what the scan path adds per report.
func BenchmarkGenerateAndEncode300(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rep := GenerateReport(digestN(i), "library/app", "https://harbor.example.com/", 300, "4.017", DefaultCVEDBCreateTime)
		if _, err := json.Marshal(rep); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
