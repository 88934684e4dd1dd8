// Package cache holds what the adapter remembers: finished reports by
// (digest, CVE DB version), already encoded for the wire and bounded by
// bytes; scan jobs by ID; in-flight scans by digest; and the
// self-describing scan ID. It imports no other package of this project.
//
// A report is a Doc: a list of chunks (the head, one per vulnerability, the
// tail) whose concatenation is the JSON body. Chunks are interned by content
// across all documents of a Store and refcounted, so a CVE that 5,000 images
// share is held once. Each chunk also keeps its bytes as an independent raw
// DEFLATE segment, so a gzip response is a fixed header, the segments, and a
// trailer whose CRC was combined from the chunks' CRCs when the Doc was
// built: serving either form copies bytes and allocates nothing. The price
// is compression ratio: segments cannot refer to each other, so the gzip
// form is larger than gzip of the whole body (see the benchmarks).
//
// Store.Stats().Bytes counts what the store holds (chunks once while any
// counted Doc refers to them, documents, entries), rounded as the Go heap
// allocates, so the byte budget is close to the heap the cache really uses.
// A Doc counts from NewDoc until the entries holding it are gone, or, if it
// never reaches a stored entry, until the garbage collector finds it
// unreachable.
package cache
