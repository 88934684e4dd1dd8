// Package harborclient re-implements, from Harbor's source
// (src/pkg/scan/rest/v1 and src/pkg/scan/job.go, as harbor-contract.md §5–§8
// describe them), the client that harbor-core and harbor-jobservice use to
// talk to a scanner adapter, so that tests, the demo, the load benchmark and
// `harbor-scanner-neuvector check` see the adapter exactly as Harbor does:
// same headers, same body bytes, same 5 s timeout, no redirects, the same
// 302/Refresh-After handling and the same error texts in the job log.
//
// It deliberately does not import the project's translate package: a
// conformance client that shared the adapter's types would share its
// mistakes. Harbor's own struct shapes and constants are declared here.
//
// Where it departs from Harbor, on purpose:
//   - RunScanJob stops when its context ends and records the context's
//     error for every unfinished MIME type (Harbor's goroutines return
//     silently on jobservice shutdown);
//   - the poll timing has a configurable first-check interval and unit
//     for Refresh-After (Harbor: 2 s and 1 s), so tests need not wait;
//   - custom root CAs may be given (Harbor uses the container's trust store,
//     which operators extend with Harbor's CA bundle);
//   - calls are counted, for load tests.
package harborclient
