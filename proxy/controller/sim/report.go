package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"math/bits"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// DefaultVulns is the number of vulnerabilities per image when Config.Vulns
// is 0.
const DefaultVulns = 25

var createdEpoch = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// GenerateReport returns the report a scan of digest would produce: the same
// inputs give the same report, byte for byte once encoded. The tag is the
// digest, as the adapter scans by digest. vulns is the exact number of
// vulnerabilities (negative means 0); about 60% come from the base OS
// chosen from the digest and the rest from application modules of two
// ecosystems. The result shares immutable strings and CPE slices with
// other reports: callers must not modify them in place.
func GenerateReport(digest, repository, registry string, vulns int, cvedb, cvedbTime string) *translate.ScanRepoReport {
	return generate(digest, repository, registry, digest, vulns, cvedb, cvedbTime)
}

func seedOf(s string) uint64 {
	// FNV-1a, then mixed: stable and allocation-free.
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix(h)
}

// bitset is used by Floyd's sampling to draw distinct indices.
type bitset []uint64

func (b bitset) has(i int) bool { return b[i>>6]&(1<<(i&63)) != 0 }
func (b bitset) set(i int)      { b[i>>6] |= 1 << (i & 63) }

// sample draws n distinct indices of [0, size) (Floyd's algorithm) and
// returns them as a bitset, so iterating it yields them in order.
func sample(r *rng, n, size int) bitset {
	b := make(bitset, (size+63)>>6)
	for j := size - n; j < size; j++ {
		t := r.intn(j + 1)
		if b.has(t) {
			b.set(j)
		} else {
			b.set(t)
		}
	}
	return b
}

// each calls f for every set index in ascending order.
func (b bitset) each(f func(i int)) {
	for w, word := range b {
		for word != 0 {
			t := bits.TrailingZeros64(word)
			f(w<<6 + t)
			word &= word - 1
		}
	}
}

func generate(digest, repository, registry, tag string, vulns int, cvedb, cvedbTime string) *translate.ScanRepoReport {
	appUniverseInit()
	r := rng{seedOf(digest)}
	u := universeFor(r.intn(len(baseOSes)))

	// Application modules: 4 of one ecosystem and 3 of another.
	e1 := r.intn(numEcosystems)
	e2 := (e1 + 1 + r.intn(numEcosystems-1)) % numEcosystems
	var apps [7]int
	na := 0
	for _, pick := range [2]struct{ eco, n int }{{e1, 4}, {e2, 3}} {
		sample(&r, pick.n, appPackagesPerEco).each(func(i int) {
			apps[na] = pick.eco*appPackagesPerEco + i
			na++
		})
	}
	if apps[0] > apps[na-1] { // keep app modules in table order
		copy(apps[:na], append(apps[4:na:na], apps[:4]...))
	}

	if vulns < 0 {
		vulns = 0
	}
	nApp := min(vulns*2/5, na*appCVEsPerPkg)
	nOS := vulns - nApp
	osRange := max(40, nOS+nOS/2)

	rep := &translate.ScanRepoReport{
		Registry:        registry,
		Repository:      repository,
		Tag:             tag,
		Digest:          digest,
		BaseOS:          u.os.name,
		CVEDBVersion:    cvedb,
		CVEDBCreateTime: cvedbTime,
		Layers:          []translate.ScanLayer{},
		OSScanStatus:    "OSScanStatusSupported",
		Vulnerabilities: make([]translate.Vulnerability, 0, vulns),
		SignatureData:   &translate.SignatureData{},
	}
	sum := sha256.Sum256([]byte("config:" + digest))
	rep.ImageID = hex.EncodeToString(sum[:])
	rep.Size = 8<<20 + int64(r.intn(300<<20))
	rep.CreatedAt = createdEpoch.Add(time.Duration(r.intn(500*86400)) * time.Second).Format(time.RFC3339)

	// Which module each vulnerability belongs to, and its status: module
	// index < len(u.pkgs) is an OS package, beyond it the app modules.
	nMods := len(u.pkgs) + na
	counts := make([]int, nMods+1)
	owner := make([]uint16, 0, vulns)
	status := make([]string, 0, vulns)
	add := func(e *cveEntry, mod int) {
		rep.Vulnerabilities = append(rep.Vulnerabilities, e.v)
		owner = append(owner, uint16(mod))
		status = append(status, e.status)
		counts[mod]++
	}
	sample(&r, nOS, osRange).each(func(k int) {
		e := u.cve(k)
		add(&e, e.pkg)
	})
	sample(&r, nApp, na*appCVEsPerPkg).each(func(i int) {
		a := i / appCVEsPerPkg
		add(&appUniverse[apps[a]*appCVEsPerPkg+i%appCVEsPerPkg], len(u.pkgs)+a)
	})

	// Module CVE lists share one backing array, cut by prefix sums.
	backing := make([]translate.ModuleCVE, len(rep.Vulnerabilities))
	offs := make([]int, nMods+1)
	for m := 0; m < nMods; m++ {
		offs[m+1] = offs[m] + counts[m]
	}
	fill := append([]int(nil), offs...)
	for i := range rep.Vulnerabilities {
		m := owner[i]
		backing[fill[m]] = translate.ModuleCVE{Name: rep.Vulnerabilities[i].Name, Status: status[i]}
		fill[m]++
	}
	rep.Modules = make([]translate.Module, nMods)
	fam := u.os.family
	for j, p := range u.pkgs {
		m := &rep.Modules[j]
		m.Name = osPackages[p].names[fam]
		m.Version = u.versions[j]
		m.Source = u.os.name
		m.CPEs = u.cpes[j]
	}
	for a := 0; a < na; a++ {
		p := &appPackages[apps[a]]
		m := &rep.Modules[len(u.pkgs)+a]
		m.Name, m.File, m.Version, m.Source = p.name, p.file, p.version, ecosystemNames[p.eco]
		m.CPEs = appCPEs[apps[a]]
	}
	for m := 0; m < nMods; m++ {
		if counts[m] > 0 {
			rep.Modules[m].CVEs = backing[offs[m]:offs[m+1]:offs[m+1]]
		}
	}
	return rep
}
