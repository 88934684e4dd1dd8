// Package controller is the NeuVector controller REST client the adapter
// uses on localhost: login/token/API key, the scan long-poll, the system
// summary (CVE DB version), and _repo_scan / fed._repo_scan look-ups.
//
// Every answer is decoded into the translate wire types. Errors wrap the
// sentinels below (or are a *ScanError) and never carry credentials, tokens
// or the controller's free text, except the message of a failed scan (code
// 26), which is what Harbor's job log should show.
//
// Choices worth knowing:
//
//   - A Client keeps one pool of connections for ordinary calls and gives
//     every ScanRepository a connection of its own, cut when the caller's
//     context ends, so an abandoned long-poll ends at once.
//   - Sessions holds one session per credential hash. Concurrent Acquire
//     calls share one login; a session is pinned while in use (a new token
//     would restart the controller's scan job); the janitor started by
//     NewSessions logs out sessions unpinned for longer than idle.
//   - Verify caches the controller's verdict (accepted 60 s, refused 5 s by
//     default) and refuses locally, with ErrRateLimited, a user name (5) or a
//     client address (20) that failed too often in a minute, so the adapter
//     can neither serve as a password oracle nor get admin locked out by the
//     controller's failed-login lock-out. A refused re-login is held for
//     30 s for the same reason.
//   - A scan backs off exponentially (1 s to 30 s, jittered) on 429, on
//     network errors and on 5xx answers that are not the controller's, until
//     its context ends: a controller restart does not fail the scan.
//
// Shutdown order: cancel the scans' contexts (they return at once and the
// controller finishes those scans into _repo_scan), then Sessions.CloseAll
// (logouts, since a user may hold only 32 sessions), then Client.Close.
package controller
