package cache

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Test material shaped like Harbor vulnerability items: English-like
// descriptions and links of realistic length, so that compression and
// sharing behave as they would on real reports.

var words = strings.Fields(`the a an of to in for on with by from at as is are was be been
vulnerability flaw issue attacker remote local user memory buffer overflow heap stack
use after free null pointer dereference denial service crafted request response packet
file certificate signature validation library function parser handling input length
allows could may cause crash execute arbitrary code information disclosure privilege
escalation authentication bypass integer underflow out bounds read write when processing
malformed specially versions before fixed affected component kernel driver network
server client protocol header cookie session token encryption decryption key random`)

var pkgs = strings.Fields(`openssl libssl3 zlib1g libc6 curl libcurl4 glibc busybox musl
libxml2 expat sqlite3 libpng16 libjpeg-turbo bash coreutils tar gzip openssh-client
python3.11 perl-base libgcrypt20 gnutls30 krb5 libtasn1-6 ncurses-base util-linux`)

func sentence(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		w := words[r.IntN(len(words))]
		if i == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	b.WriteByte('.')
	return b.String()
}

// genItem is one vulnerability item of about 400–800 bytes of JSON,
// with a leading comma so equal findings are equal bytes in any position.
func genItem(r *rand.Rand, i int) []byte {
	desc := sentence(r, 25+r.IntN(50))
	year := 2015 + r.IntN(10)
	id := fmt.Sprintf("CVE-%d-%d", year, 1000+i)
	pkg := pkgs[r.IntN(len(pkgs))]
	ver := fmt.Sprintf("%d.%d.%d-%dubuntu%d", r.IntN(4), r.IntN(20), r.IntN(30), r.IntN(9), r.IntN(5))
	sev := []string{"Low", "Medium", "High", "Critical"}[r.IntN(4)]
	score := float64(r.IntN(100)) / 10
	return fmt.Appendf(nil, `,{"id":%q,"package":%q,"version":%q,"fix_version":"%s.1","severity":%q,`+
		`"description":%q,"links":["https://nvd.nist.gov/vuln/detail/%s","https://ubuntu.com/security/%s"],`+
		`"preferred_cvss":{"score_v3":%.1f,"vector_v3":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},`+
		`"vendor_attributes":{"CVSS":{"provider":"NeuVector","score_v3":%.1f},"feed_rating":%q,"in_base_image":%t}}`,
		id, pkg, ver, ver, sev, desc, id, id, score, score, strings.ToLower(sev), r.IntN(2) == 0)
}

func genUniverse(n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	u := make([][]byte, n)
	for i := range u {
		u[i] = genItem(r, i)
	}
	return u
}

// pickItems draws k items for one report: images that share a base share
// most CVEs, so picks cluster around a base offset.
func pickItems(r *rand.Rand, u [][]byte, k int) [][]byte {
	base := r.IntN(len(u))
	seen := make(map[int]bool, k)
	items := make([][]byte, 0, k)
	for len(items) < k {
		var j int
		if r.IntN(4) > 0 {
			j = (base + r.IntN(600)) % len(u)
		} else {
			j = r.IntN(len(u))
		}
		if !seen[j] {
			seen[j] = true
			items = append(items, u[j])
		}
	}
	items[0] = items[0][1:] // the first item has no separator
	return items
}

func docHead(digest string) []byte {
	return fmt.Appendf(nil, `{"generated_at":"2026-12-04T21:00:00Z","artifact":{"repository":"library/app","digest":%q,`+
		`"mime_type":"application/vnd.docker.distribution.manifest.v2+json"},"scanner":{"name":"NeuVector",`+
		`"vendor":"SUSE","version":"5.4.0"},"severity":"High","vulnerabilities":[`, digest)
}

var docTail = []byte(`]}`)

func concat(head []byte, items [][]byte, tail []byte) []byte {
	out := append([]byte{}, head...)
	for _, it := range items {
		out = append(out, it...)
	}
	return append(out, tail...)
}
