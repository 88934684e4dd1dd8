package cache

// CRC-32 (IEEE) combination, after zlib's crc32_combine: the CRC of A‖B from
// crc(A), crc(B) and len(B), so a document's gzip trailer is computed from
// the CRCs its chunks already carry instead of rereading every byte.

const crcPoly = 0xedb88320 // reflected IEEE polynomial, as hash/crc32.IEEE

// x2nTable[k] is x^(2^k) modulo the CRC polynomial (reflected).
var x2nTable = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	t[0] = p
	for n := 1; n < 32; n++ {
		p = multModP(p, p)
		t[n] = p
	}
	return t
}()

// multModP returns a(x) b(x) modulo p(x), with bit 31 the x^0 coefficient.
// Branch-free: the bits of a are random, so branches would mispredict.
func multModP(a, b uint32) uint32 {
	var p uint32
	for range 32 {
		p ^= b & uint32(int32(a)>>31)
		a <<= 1
		b = b>>1 ^ crcPoly&-(b&1)
	}
	return p
}

// crcShift returns x^(8n) modulo p(x): the operator that moves a CRC past n
// zero bytes. Chunks keep theirs so combining is one multModP per chunk.
func crcShift(n int) uint32 {
	p := uint32(1) << 31 // x^0
	k := 3               // 8n = n << 3
	for u := uint64(n); u != 0; u >>= 1 {
		if u&1 != 0 {
			p = multModP(x2nTable[k&31], p)
		}
		k++
	}
	return p
}

// crcCombine returns the CRC of A‖B given crcA, crcB and shiftB = crcShift(len(B)).
func crcCombine(crcA, crcB, shiftB uint32) uint32 {
	return multModP(shiftB, crcA) ^ crcB
}
