package sim

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// The CVE universe: per base OS, an unbounded deterministic sequence of OS
// package CVEs (the first osMemo memoised, the rest made on demand), plus one
// universe of application-module CVEs shared by every image. Images of one
// base OS draw from the same sequence, so they share CVEs as real images of
// a common base do. A CVE's name, scores and text depend only on the OS
// family and its index, so debian:11 and debian:12 share names too.

const (
	osMemo        = 600
	appCVEsPerPkg = 12
)

// rng is splitmix64: tiny, allocation-free and stable across Go releases,
// which math/rand's generators do not promise for their streams.
type rng struct{ s uint64 }

func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// cvssProfile is one plausible (v3, v2) scoring of a CVE.
type cvssProfile struct {
	v3     float32
	vec3   string
	v2     float32
	vec2   string
	weight int
}

var cvssProfiles = []cvssProfile{
	{9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 10.0, "AV:N/AC:L/Au:N/C:C/I:C/A:C", 5},
	{9.1, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N", 6.4, "AV:N/AC:L/Au:N/C:P/I:P/A:N", 3},
	{8.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 6.8, "AV:N/AC:M/Au:N/C:P/I:P/A:P", 8},
	{8.1, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 5.1, "AV:N/AC:H/Au:N/C:P/I:P/A:P", 5},
	{7.8, "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 4.6, "AV:L/AC:L/Au:N/C:P/I:P/A:P", 10},
	{7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.0, "AV:N/AC:L/Au:N/C:N/I:N/A:P", 14},
	{6.5, "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 4.0, "AV:N/AC:L/Au:S/C:P/I:N/A:N", 10},
	{6.1, "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 4.3, "AV:N/AC:M/Au:N/C:N/I:P/A:N", 8},
	{5.9, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 4.3, "AV:N/AC:M/Au:N/C:N/I:N/A:P", 10},
	{5.5, "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 2.1, "AV:L/AC:L/Au:N/C:N/I:N/A:P", 14},
	{4.7, "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:N/A:H", 1.9, "AV:L/AC:M/Au:N/C:N/I:N/A:P", 6},
	{3.7, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:L/A:N", 2.6, "AV:N/AC:H/Au:N/C:N/I:P/A:N", 5},
	{3.3, "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N", 2.1, "AV:L/AC:L/Au:N/C:P/I:N/A:N", 3},
}

var cvssWeightTotal = func() int {
	t := 0
	for _, p := range cvssProfiles {
		t += p.weight
	}
	return t
}()

func pickProfile(r *rng) *cvssProfile {
	n := r.intn(cvssWeightTotal)
	for i := range cvssProfiles {
		if n < cvssProfiles[i].weight {
			return &cvssProfiles[i]
		}
		n -= cvssProfiles[i].weight
	}
	return &cvssProfiles[0]
}

// severityOf is the controller's derivation from a score (§13.5).
func severityOf(score float32) string {
	switch {
	case score >= 9:
		return "Critical"
	case score >= 7:
		return "High"
	case score >= 4:
		return "Medium"
	}
	return "Low"
}

var sevRank = map[string]int{"Low": 0, "Medium": 1, "High": 2, "Critical": 3}

// feedRatings are each family's own rating words by severity rank; alpine
// and application feeds have none, so the controller copies the severity.
var feedRatings = [4][4]string{
	famDebian: {"unimportant", "low", "medium", "high"},
	famUbuntu: {"negligible", "low", "medium", "high"},
	famAlpine: {},
	famRHEL:   {"low", "moderate", "important", "critical"},
}

var familyLinks = [4]string{
	famDebian: "https://security-tracker.debian.org/tracker/",
	famUbuntu: "https://ubuntu.com/security/",
	famAlpine: "https://nvd.nist.gov/vuln/detail/",
	famRHEL:   "https://access.redhat.com/security/cve/",
}

const nvdLink = "https://nvd.nist.gov/vuln/detail/"

// latestModified keeps last_modified_timestamp in the past of the fixed
// CVE DB time, as in a real database.
var latestModified = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Unix()

// cveEntry is one universe CVE: the vulnerability as it appears in a report
// and the module it belongs to.
type cveEntry struct {
	v      translate.Vulnerability
	pkg    int    // index into osUniverse.pkgs, or into appPackages
	status string // the module's CVE status
}

type osUniverse struct {
	idx      int
	os       *baseOS
	pkgs     []int    // indices into osPackages shipped by the family, by binary name
	versions []string // installed version per pkgs entry
	revs     []int    // packaging revision per pkgs entry
	cpes     [][]string
	cves     []cveEntry // the first osMemo CVEs
}

var (
	osUniverses    [numBaseOSes]*osUniverse
	osUniverseOnce [numBaseOSes]sync.Once
	appUniverse    []cveEntry
	appCPEs        [][]string
	appOnce        sync.Once
)

func universeFor(i int) *osUniverse {
	osUniverseOnce[i].Do(func() { osUniverses[i] = buildOSUniverse(i) })
	return osUniverses[i]
}

func buildOSUniverse(i int) *osUniverse {
	u := &osUniverse{idx: i, os: &baseOSes[i]}
	fam := u.os.family
	for p := range osPackages {
		if osPackages[p].names[fam] != "" {
			u.pkgs = append(u.pkgs, p)
		}
	}
	// Sort by binary name (insertion sort: ~45 entries, once).
	for a := 1; a < len(u.pkgs); a++ {
		for b := a; b > 0 && osPackages[u.pkgs[b]].names[fam] < osPackages[u.pkgs[b-1]].names[fam]; b-- {
			u.pkgs[b], u.pkgs[b-1] = u.pkgs[b-1], u.pkgs[b]
		}
	}
	u.versions = make([]string, len(u.pkgs))
	u.revs = make([]int, len(u.pkgs))
	u.cpes = make([][]string, len(u.pkgs))
	for j, p := range u.pkgs {
		u.revs[j] = 1 + int(mix(uint64(i)<<32^uint64(p))%4)
		u.versions[j] = u.version(osPackages[p].version, u.revs[j], 0)
		if c := osPackages[p].cpe; c != "" {
			u.cpes[j] = []string{"cpe:2.3:a:" + c + ":" + osPackages[p].version + ":*:*:*:*:*:*:*"}
		}
	}
	u.cves = make([]cveEntry, osMemo)
	for k := range u.cves {
		u.cves[k] = u.make(k)
	}
	return u
}

// version formats an installed (bump 0) or fixed (bump > 0) package version
// the way the family's package manager does.
func (u *osUniverse) version(upstream string, rev, bump int) string {
	rel := u.os.release
	switch u.os.family {
	case famDebian:
		return upstream + "-1+deb" + rel + "u" + strconv.Itoa(rev+bump)
	case famUbuntu:
		return upstream + "-0ubuntu1." + strconv.Itoa(rev*3+bump)
	case famAlpine:
		return upstream + "-r" + strconv.Itoa(rev+bump)
	default:
		v := upstream + "-" + strconv.Itoa(rev+bump) + ".el" + rel
		if bump > 0 {
			v += "_" + strconv.Itoa(bump+1)
		}
		return v
	}
}

func (u *osUniverse) cve(k int) cveEntry {
	if k < len(u.cves) {
		return u.cves[k]
	}
	return u.make(k)
}

// bumpUpstream returns the next patch release of an upstream version.
func bumpUpstream(v string) string {
	i := strings.LastIndexByte(v, '.')
	if i < 0 {
		return v + ".1"
	}
	n, err := strconv.Atoi(v[i+1:])
	if err != nil {
		return v + ".1"
	}
	return v[:i+1] + strconv.Itoa(n+1)
}

func cveName(year, num int) string {
	return "CVE-" + strconv.Itoa(year) + "-" + strconv.Itoa(num)
}

// scoreCVE fills name-independent scoring fields shared by OS and app CVEs.
func scoreCVE(r *rng, v *translate.Vulnerability, year int) {
	p := pickProfile(r)
	v.Score, v.Vectors = p.v2, p.vec2
	// Older CVEs were often never rescored for CVSS v3.
	if year <= 2017 && r.intn(100) < 45 {
		v.Severity = severityOf(p.v2)
	} else {
		v.ScoreV3, v.VectorsV3 = p.v3, p.vec3
		v.Severity = severityOf(p.v3)
	}
	pub := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.intn(360*24)) * time.Hour)
	v.PublishedTimestamp = pub.Unix()
	v.LastModifiedTimestamp = min(pub.Add(time.Duration(24*(30+r.intn(700)))*time.Hour).Unix(), latestModified)
}

func (u *osUniverse) make(k int) cveEntry {
	fam := u.os.family
	r := rng{mix(uint64(fam)<<48 ^ uint64(k)*0x9e37)}
	year := 2016 + r.intn(9)
	e := cveEntry{pkg: r.intn(len(u.pkgs))}
	v := &e.v
	v.Name = cveName(year, 20000+k*7+fam)
	scoreCVE(&r, v, year)
	if fr := feedRatings[fam]; fr[0] != "" {
		rank := sevRank[v.Severity]
		if rank > 0 && r.intn(5) == 0 { // distributions often rate lower than NVD
			rank--
		}
		v.FeedRating = fr[rank]
	} else {
		v.FeedRating = v.Severity
	}
	p := &osPackages[u.pkgs[e.pkg]]
	v.PackageName = p.names[fam]
	v.PackageVersion = u.versions[e.pkg]
	rev := u.revs[e.pkg]
	upFixed := ""
	switch f := r.intn(100); {
	case f < 12:
		e.status = "unpatched"
		if (fam == famDebian || fam == famUbuntu) && f < 5 {
			e.status = "will not fix"
		}
	case f < 16:
		upFixed = bumpUpstream(p.version)
		v.FixedVersion = u.version(p.version, rev, 1+f%3) + " OR " + u.version(upFixed, 1, 0)
		e.status = "fix exists"
	default:
		upFixed = p.version
		v.FixedVersion = u.version(p.version, rev, 1+f%3)
		e.status = "fix exists"
	}
	switch l := r.intn(100); {
	case l < 8:
	case l < 55:
		v.Link = familyLinks[fam] + v.Name
	default:
		v.Link = nvdLink + v.Name
	}
	if upFixed != "" && upFixed == p.version {
		upFixed = bumpUpstream(p.version)
	}
	v.Description = describe(&r, p.upstream, p.version, upFixed)
	return e
}

func appUniverseInit() {
	appOnce.Do(func() {
		appCPEs = make([][]string, len(appPackages))
		for p := range appPackages {
			appCPEs[p] = []string{appPackages[p].cpe}
		}
		appUniverse = make([]cveEntry, len(appPackages)*appCVEsPerPkg)
		for k := range appUniverse {
			appUniverse[k] = makeAppCVE(k)
		}
	})
}

const ghsaAlphabet = "23456789cfghjmpqrvwx"

func makeAppCVE(k int) cveEntry {
	r := rng{mix(0xa99<<48 ^ uint64(k))}
	p := &appPackages[k/appCVEsPerPkg]
	e := cveEntry{pkg: k / appCVEsPerPkg}
	v := &e.v
	year := 2017 + r.intn(8)
	ghsa := (p.eco == ecoPython || p.eco == ecoNodejs) && r.intn(10) < 3
	if ghsa {
		b := []byte("GHSA-xxxx-xxxx-xxxx")
		for i := range b {
			if b[i] == 'x' {
				b[i] = ghsaAlphabet[r.intn(len(ghsaAlphabet))]
			}
		}
		v.Name = string(b)
	} else {
		v.Name = cveName(year, 1000+k*7+5)
	}
	scoreCVE(&r, v, year)
	v.FeedRating = v.Severity
	v.PackageName = p.name
	v.PackageVersion = p.version
	v.FileName = p.file
	orShare := 10
	switch p.eco {
	case ecoJar:
		orShare = 35
	case ecoGolang:
		orShare = 15
	}
	f := r.intn(100)
	switch {
	case f < 8:
		e.status = "unpatched"
	case f < 8+orShare && len(p.fixes) > 1:
		v.FixedVersion = strings.Join(p.fixes, " OR ")
		e.status = "fix exists"
	default:
		v.FixedVersion = p.fixes[r.intn(len(p.fixes))]
		e.status = "fix exists"
	}
	switch l := r.intn(100); {
	case l < 8:
	case ghsa:
		v.Link = "https://github.com/advisories/" + v.Name
	default:
		v.Link = nvdLink + v.Name
	}
	fixed := v.FixedVersion
	if i := strings.Index(fixed, " OR "); i >= 0 {
		fixed = fixed[:i]
	}
	v.Description = describe(&r, p.name, p.version, fixed)
	return e
}
