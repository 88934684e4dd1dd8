//go:build !race

package controller

import (
	"context"
	"testing"
)

// Harbor's every call (metadata included) verifies its credential in
// pass-through mode: a cached verdict must cost no allocation.
func TestVerifyCachedAllocs(t *testing.T) {
	s, cred := cachedVerifier(t)
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() {
		if err := s.Verify(ctx, cred); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("cached Verify allocates %.1f times", n)
	}
	// Acquiring a held session allocates only its release func.
	if n := testing.AllocsPerRun(1000, func() {
		_, release, err := s.Acquire(ctx, cred)
		if err != nil {
			t.Fatal(err)
		}
		release()
	}); n > 2 {
		t.Fatalf("Acquire of a held session allocates %.1f times", n)
	}
}
