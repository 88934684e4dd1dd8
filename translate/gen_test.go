package translate

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// A deterministic generator of controller reports for tests and benchmarks
// (the simulator is another package's; this one only has to look real:
// descriptions of 200–600 characters, links, vectors, scores with one
// decimal, duplicates as the controller sometimes sends, modules of several
// ecosystems).

var genWords = strings.Fields(`a an the in of to via allows remote attackers cause denial service
buffer overflow heap use-after-free crafted request memory corruption out-of-bounds read write
function parser library component version before when processing malformed input leads execution
arbitrary code privilege escalation local users information disclosure integer underflow null pointer
dereference certificate validation bypass authentication improper handling sensitive data <script>
"quoted" path & traversal`)

var genPackages = []struct{ name, version string }{
	{"openssl", "3.0.11-1~deb12u2"}, {"libc6", "2.36-9+deb12u4"}, {"zlib1g", "1:1.2.13.dfsg-1"},
	{"curl", "7.88.1-10+deb12u5"}, {"libxml2", "2.9.14+dfsg-1.3"}, {"perl-base", "5.36.0-7+deb12u1"},
	{"openssh-client", "1:9.2p1-2+deb12u2"}, {"tar", "1.34+dfsg-1.2+deb12u1"}, {"libssl3", "3.0.11-1~deb12u2"},
	{"org.apache.logging.log4j:log4j-core", "2.14.1"}, {"python:requests", "2.25.1"}, {"lodash", "4.17.20"},
	{"go:golang.org/x/net", "0.17.0"}, {"ruby:rack", "2.2.3"}, {".NET:Newtonsoft.Json", "12.0.1"},
}

var genSeverities = []string{"Critical", "High", "Medium", "Low", "", "high"}

func genSentence(r *rand.Rand, minLen, maxLen int) string {
	target := minLen + r.IntN(maxLen-minLen+1)
	var b strings.Builder
	for b.Len() < target {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(genWords[r.IntN(len(genWords))])
	}
	s := b.String()
	if len(s) > maxLen {
		s = s[:maxLen]
	}
	return s
}

// genScore is a score with one decimal in [lo, hi].
func genScore(r *rand.Rand, lo, hi int) float32 {
	return float32(lo*10+r.IntN((hi-lo)*10+1)) / 10
}

// genReport builds a report with n vulnerabilities drawn from seed.
func genReport(seed uint64, n int) *ScanRepoReport {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	rep := &ScanRepoReport{
		ImageID:         fmt.Sprintf("%064x", seed),
		Registry:        "https://harbor.example.com/",
		Repository:      "library/app",
		Tag:             "1.0",
		Digest:          fmt.Sprintf("sha256:%064x", seed*7919),
		BaseOS:          "debian:12",
		CVEDBVersion:    "3.912",
		CVEDBCreateTime: "2026-07-01T00:00:00Z",
		Layers:          []ScanLayer{},
		Vulnerabilities: make([]Vulnerability, 0, n),
		SignatureData:   &SignatureData{},
	}
	for i := 0; i < n; i++ {
		if i > 0 && r.IntN(50) == 0 {
			// the controller occasionally repeats a finding
			dup := rep.Vulnerabilities[r.IntN(len(rep.Vulnerabilities))]
			dup.FixedVersion = fmt.Sprintf("9.%d", r.IntN(3))
			rep.Vulnerabilities = append(rep.Vulnerabilities, dup)
			continue
		}
		p := genPackages[r.IntN(len(genPackages))]
		name := fmt.Sprintf("CVE-%d-%d", 2014+r.IntN(12), 1000+r.IntN(60000))
		v := Vulnerability{
			Name:                  name,
			Score:                 genScore(r, 1, 10),
			Severity:              genSeverities[r.IntN(len(genSeverities))],
			Vectors:               "AV:N/AC:L/Au:N/C:P/I:P/A:P",
			Description:           genSentence(r, 200, 600),
			PackageName:           p.name,
			PackageVersion:        p.version,
			Link:                  "https://security-tracker.debian.org/tracker/" + name,
			ScoreV3:               genScore(r, 0, 10),
			VectorsV3:             "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			PublishedTimestamp:    1500000000 + r.Int64N(250000000),
			LastModifiedTimestamp: 1700000000 + r.Int64N(80000000),
			CVEs:                  []string{name},
			FeedRating:            []string{"critical", "important", "moderate", "low", "", "unimportant"}[r.IntN(6)],
			InBaseImage:           r.IntN(3) == 0,
		}
		if r.IntN(3) > 0 {
			v.FixedVersion = fmt.Sprintf("%d.%d.%d", r.IntN(5), r.IntN(20), r.IntN(9))
		}
		if r.IntN(10) == 0 {
			v.Link = ""
		}
		if r.IntN(4) == 0 {
			v.CPEs = []string{"cpe:2.3:a:vendor:" + p.name + ":" + p.version + ":*:*:*:*:*:*:*"}
		}
		if strings.Contains(p.name, ":") {
			v.FileName = "/app/lib/" + p.name + ".jar"
		}
		rep.Vulnerabilities = append(rep.Vulnerabilities, v)
	}
	rep.Modules = genModules(r)
	return rep
}

func genModules(r *rand.Rand) []Module {
	mods := []Module{
		{Name: "openssl", Version: "3.0.11-1~deb12u2", Source: "debian:12", CPEs: []string{"cpe:2.3:a:openssl:openssl:3.0.11:*:*:*:*:*:*:*"},
			CVEs: []ModuleCVE{{Name: "CVE-2023-5678", Status: "fix exists"}}},
		{Name: "libc6", Version: "2.36-9+deb12u4", Source: "debian:12"},
		{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Source: "debian:12"},
		{Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", Source: "jar", File: "/app/lib/log4j-core-2.14.1.jar",
			CPEs: []string{"cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*", "cpe:/a:apache:log4j:2.14.1"}},
		{Name: "jar:mystery", Version: "1.0", Source: "jar", File: "/app/lib/mystery.jar"},
		{Name: "python:Flask_Cors", Version: "3.0.10", Source: "python", File: "/usr/lib/python3/dist-packages/Flask_Cors-3.0.10"},
		{Name: "@types/node", Version: "20.1.0", Source: "npm", File: "/app/node_modules/@types/node/package.json"},
		{Name: "lodash", Version: "4.17.20", Source: "npm", File: "/app/node_modules/lodash/package.json"},
		{Name: "go:golang.org/x/net", Version: "0.17.0", Source: "golang", File: "/usr/local/bin/app"},
		{Name: "ruby:rack", Version: "2.2.3", Source: "ruby", File: "/usr/lib/ruby/gems/rack-2.2.3"},
		{Name: "php:monolog", Version: "2.9.1", Source: "php", File: "/app/composer.lock"},
		{Name: ".NET:Newtonsoft.Json", Version: "12.0.1", Source: ".NET", File: "/app/app.deps.json"},
		{Name: ".NET:Core", Version: "6.0.5", Source: ".NET", File: "/app/app.deps.json"},
		{Name: "Wordpress", Version: "6.4.1", Source: "Wordpress", File: "/var/www/wp-includes/version.php"},
	}
	// the same package in two files, and an exact repeat
	mods = append(mods, Module{Name: "lodash", Version: "4.17.20", Source: "npm", File: "/app2/node_modules/lodash/package.json"}, mods[1])
	r.Shuffle(len(mods), func(i, j int) { mods[i], mods[j] = mods[j], mods[i] })
	return mods
}

var testScanner = Scanner{Name: "NeuVector", Vendor: "SUSE", Version: "5.4.0"}

var testArtifact = Artifact{
	Repository: "library/app",
	Digest:     "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b",
	Tag:        "1.0",
	MimeType:   MimeOCIManifest,
	Size:       1234,
}
