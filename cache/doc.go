// Package cache holds what the adapter remembers: finished reports by
// (digest, CVE DB version), already encoded for the wire and bounded by
// bytes; scan jobs by ID; in-flight scans by digest; and the
// self-describing scan ID. It imports no other package of this project.
package cache
