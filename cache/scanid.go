package cache

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// A scan ID is base64url (no padding) of a binary record. Version 1:
//
//	0      version = 1
//	1..8   issued-at, Unix milliseconds, int64 big-endian
//	9      digest form: 1 sha256, 2 sha384, 3 sha512 (the raw hash bytes
//	       follow), or 0 (a length byte and the digest string follow)
//	…      nonce, 12 bytes from crypto/rand
//	…      repository, UTF-8, to the end; cut so the ID fits MaxScanIDLen
//
// Bytes 0..8 keep this layout in every future version, so that an older
// replica can still read when a newer ID was issued (ErrNewerScanID).

// ScanIDVersion is the version this package issues.
const ScanIDVersion = 1

// MaxScanIDLen is the longest ID issued or accepted, in characters.
const MaxScanIDLen = 256

const (
	maxRecord = MaxScanIDLen / 4 * 3 // 192 bytes encode to exactly 256 characters
	headLen   = 1 + 8                // version, issued-at
	nonceLen  = 12
	formRaw   = 0
	// The longest digest kept as text: what leaves room for the rest.
	maxRawDigest = maxRecord - headLen - 2 - nonceLen
)

var (
	// ErrBadScanID: the ID is malformed (answer 404).
	ErrBadScanID = errors.New("cache: malformed scan ID")
	// ErrNewerScanID: the ID comes from a newer version of the adapter; its
	// Version and IssuedAt are valid, nothing else is. It wraps ErrBadScanID
	// so that a caller that does not know about versions answers 404.
	ErrNewerScanID = fmt.Errorf("%w: issued by a newer version", ErrBadScanID)
)

// ScanID is the decoded form of a scan ID (design.md "The scan ID").
type ScanID struct {
	Version    uint8
	IssuedAt   time.Time
	Digest     string
	Repository string // may be cut to keep the ID within 256 characters

	nonce [nonceLen]byte
}

// Algorithms with a compact form: the raw hash bytes instead of hex.
var digestForms = [...]struct {
	alg string
	n   int
}{1: {"sha256", 32}, 2: {"sha384", 48}, 3: {"sha512", 64}}

// NewScanID issues a new, unique, URL-safe ID of at most 256 characters. The
// repository rides along, cut to fit (dropped if it is not valid UTF-8). A
// digest that is not a sha256/384/512 digest in lower-case hex is kept as
// text, cut to 169 bytes; callers validate digests first.
func NewScanID(digest, repository string, now time.Time) (string, ScanID) {
	id := ScanID{
		Version:    ScanIDVersion,
		IssuedAt:   time.UnixMilli(now.UnixMilli()),
		Digest:     digest,
		Repository: repository,
	}
	rand.Read(id.nonce[:]) // never fails (crypto/rand since Go 1.24)
	if !utf8.ValidString(id.Repository) {
		id.Repository = ""
	}
	if !utf8.ValidString(id.Digest) {
		id.Digest = strings.ToValidUTF8(id.Digest, "")
	}
	if digestForm(id.Digest) == formRaw && len(id.Digest) > maxRawDigest {
		id.Digest = cutUTF8(id.Digest, maxRawDigest)
	}
	var buf [maxRecord + 512]byte
	rec := id.appendRecord(buf[:0])
	if len(rec) > maxRecord {
		cut := len(id.Repository) - (len(rec) - maxRecord)
		id.Repository = cutUTF8(id.Repository, max(cut, 0))
		rec = id.appendRecord(buf[:0])
	}
	return base64.RawURLEncoding.EncodeToString(rec), id
}

// String re-encodes the ID (the same string it was parsed from).
func (id ScanID) String() string {
	var buf [maxRecord + 512]byte
	return base64.RawURLEncoding.EncodeToString(id.appendRecord(buf[:0]))
}

func (id ScanID) appendRecord(b []byte) []byte {
	b = append(b, id.Version)
	b = binary.BigEndian.AppendUint64(b, uint64(id.IssuedAt.UnixMilli()))
	form := digestForm(id.Digest)
	b = append(b, byte(form))
	if form == formRaw {
		b = append(b, byte(len(id.Digest)))
		b = append(b, id.Digest...)
	} else {
		b, _ = hex.AppendDecode(b, []byte(id.Digest[len(digestForms[form].alg)+1:]))
	}
	b = append(b, id.nonce[:]...)
	return append(b, id.Repository...)
}

// digestForm is the compact form of d, or formRaw.
func digestForm(d string) int {
	alg, enc, ok := strings.Cut(d, ":")
	if !ok {
		return formRaw
	}
	for f := 1; f < len(digestForms); f++ {
		if alg == digestForms[f].alg && len(enc) == 2*digestForms[f].n && isLowerHex(enc) {
			return f
		}
	}
	return formRaw
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ParseScanID decodes an ID; a malformed one is ErrBadScanID. An ID of a
// newer version returns its Version and IssuedAt with ErrNewerScanID.
// Forged IDs decode like real ones (nothing secret is in them): an IssuedAt
// in the future is the caller's to distrust.
func ParseScanID(s string) (ScanID, error) {
	var id ScanID
	if len(s) > MaxScanIDLen || !isBase64URL(s) {
		return id, ErrBadScanID
	}
	var buf [maxRecord]byte
	n, err := base64.RawURLEncoding.Strict().Decode(buf[:], []byte(s))
	if err != nil || n < headLen || buf[0] == 0 || n > maxRecord {
		return id, ErrBadScanID
	}
	rec := buf[:n]
	id.Version = rec[0]
	id.IssuedAt = time.UnixMilli(int64(binary.BigEndian.Uint64(rec[1:9])))
	if id.Version > ScanIDVersion {
		return ScanID{Version: id.Version, IssuedAt: id.IssuedAt}, ErrNewerScanID
	}
	rec = rec[headLen:]
	if len(rec) < 1 {
		return ScanID{}, ErrBadScanID
	}
	form := int(rec[0])
	rec = rec[1:]
	switch {
	case form == formRaw:
		if len(rec) < 1 || len(rec) < 1+int(rec[0]) {
			return ScanID{}, ErrBadScanID
		}
		dn := int(rec[0])
		id.Digest = string(rec[1 : 1+dn])
		rec = rec[1+dn:]
		// A digest with a compact form must use it, so that every ID has
		// one encoding.
		if !utf8.ValidString(id.Digest) || digestForm(id.Digest) != formRaw {
			return ScanID{}, ErrBadScanID
		}
	case form < len(digestForms):
		hn := digestForms[form].n
		if len(rec) < hn {
			return ScanID{}, ErrBadScanID
		}
		id.Digest = digestForms[form].alg + ":" + hex.EncodeToString(rec[:hn])
		rec = rec[hn:]
	default:
		return ScanID{}, ErrBadScanID
	}
	if len(rec) < nonceLen {
		return ScanID{}, ErrBadScanID
	}
	copy(id.nonce[:], rec)
	rec = rec[nonceLen:]
	if !utf8.Valid(rec) {
		return ScanID{}, ErrBadScanID
	}
	id.Repository = string(rec)
	return id, nil
}

// isBase64URL reports whether s uses only the base64url alphabet (the
// decoder would skip line breaks, giving one record two spellings).
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
