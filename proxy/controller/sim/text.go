package sim

import "strings"

// Description text of generated CVEs: assembled from sentence pools so that
// every description reads like an NVD summary and is 200 to 600 characters
// long, as real ones mostly are.

var vulnClasses = []string{
	"heap-based buffer overflow",
	"use-after-free",
	"integer overflow",
	"NULL pointer dereference",
	"out-of-bounds read",
	"out-of-bounds write",
	"improper input validation flaw",
	"path traversal vulnerability",
	"uncontrolled resource consumption issue",
	"improper certificate validation flaw",
	"race condition",
	"double free",
	"stack-based buffer overflow",
	"inefficient regular expression complexity issue",
	"HTTP request smuggling vulnerability",
	"deserialization of untrusted data flaw",
}

var components = []string{
	"the parser",
	"the certificate verification code",
	"the decompression routine",
	"the HTTP/2 frame handling",
	"the URL parsing logic",
	"the DNS resolver",
	"the archive extraction code",
	"the regular expression engine",
	"the authentication handler",
	"the logging subsystem",
	"the character set conversion functions",
	"the memory allocator wrapper",
}

var triggers = []string{
	"A remote, unauthenticated attacker could exploit this flaw by sending a specially crafted request to an application that uses the affected code.",
	"When processing a maliciously crafted file, the library fails to check the length of an attacker-controlled field before copying it into a fixed-size buffer.",
	"An attacker who can supply input to an application linked against the library can trigger the condition with a sequence of malformed records.",
	"A local user with low privileges could trigger the issue by invoking the affected utility with carefully chosen arguments and environment variables.",
	"The flaw is reachable through the default configuration when untrusted data is passed to the affected function without prior sanitization.",
	"A malicious server could trigger the flaw in a connecting client during the protocol handshake.",
}

var impacts = []string{
	"Successful exploitation could lead to a denial of service through application crash or, in some configurations, arbitrary code execution.",
	"This may allow an attacker to read sensitive information from process memory.",
	"This could cause excessive CPU and memory consumption, resulting in a denial of service.",
	"This may allow an attacker to bypass intended access restrictions and modify files outside of the intended directory.",
	"An attacker could use this flaw to impersonate a trusted server and intercept or alter traffic.",
	"The impact is limited to a crash of the affected process.",
}

var padding = []string{
	"The highest threat from this vulnerability is to data confidentiality and integrity as well as system availability.",
	"Exploitation requires the application to process data from an untrusted source.",
	"Users are advised to upgrade to a fixed release; no complete workaround is known.",
	"The issue was reported through coordinated disclosure and is addressed by a patch that adds the missing bounds check.",
}

// describe writes one description. fixed is the upstream fix ("" when there
// is none).
func describe(r *rng, pkg, version, fixed string) string {
	var b strings.Builder
	b.Grow(640)
	class := vulnClasses[r.intn(len(vulnClasses))]
	if strings.IndexByte("aeiouAEIOU", class[0]) >= 0 {
		b.WriteString("An ")
	} else {
		b.WriteString("A ")
	}
	b.WriteString(class)
	b.WriteString(" was found in ")
	b.WriteString(components[r.intn(len(components))])
	b.WriteString(" of ")
	b.WriteString(pkg)
	b.WriteString(" ")
	b.WriteString(version)
	b.WriteString(". ")
	b.WriteString(triggers[r.intn(len(triggers))])
	b.WriteByte(' ')
	b.WriteString(impacts[r.intn(len(impacts))])
	if fixed != "" {
		b.WriteString(" This issue affects ")
		b.WriteString(pkg)
		b.WriteString(" versions before ")
		b.WriteString(fixed)
		b.WriteByte('.')
	} else {
		b.WriteString(" No fixed version is available at the time of publication.")
	}
	for i := r.intn(len(padding)); b.Len() < 200 || r.intn(3) == 0; i++ {
		b.WriteByte(' ')
		b.WriteString(padding[i%len(padding)])
		if b.Len() > 600 {
			break
		}
	}
	s := b.String()
	if len(s) > 600 {
		cut := strings.LastIndexByte(s[:596], ' ')
		s = s[:cut] + " ..."
	}
	return s
}
