package api

import (
	"math/rand/v2"
	"testing"
)

// plainASCII stops where a byte-by-byte look would, wherever the special
// byte falls in its word of eight.
func TestPlainASCII(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	special := []byte{0, 0x1f, '"', '\\', 0x80, 0xc3, 0xff}
	for range 20000 {
		s := make([]byte, r.IntN(40))
		for i := range s {
			s[i] = byte(0x20 + r.IntN(0x60))
			if s[i] == '"' || s[i] == '\\' {
				s[i] = 'a'
			}
		}
		for range r.IntN(3) {
			if len(s) > 0 {
				s[r.IntN(len(s))] = special[r.IntN(len(special))]
			}
		}
		from := 0
		if len(s) > 0 {
			from = r.IntN(len(s))
		}
		want := from
		for want < len(s) && s[want] >= 0x20 && s[want] != '"' && s[want] != '\\' && s[want] < 0x80 {
			want++
		}
		if got := plainASCII(s, from); got != want {
			t.Fatalf("plainASCII(%q, %d) = %d, want %d", s, from, got, want)
		}
		if got := plainASCII(string(s), from); got != want {
			t.Fatalf("plainASCII(string %q, %d) = %d, want %d", s, from, got, want)
		}
	}
}
