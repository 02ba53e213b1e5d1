package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
)

// cheap keeps tests fast; real deployments use auth.DefaultParams.
var cheap = auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newHasher(t *testing.T) *auth.Hasher {
	t.Helper()
	return auth.NewHasher(cheap, 4)
}

func mustHash(t *testing.T, h *auth.Hasher, password string) string {
	t.Helper()
	enc, err := h.Hash(context.Background(), password)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return enc
}

func TestHashVerifyRoundTrip(t *testing.T) {
	h := newHasher(t)
	ctx := context.Background()
	for _, pw := range []string{"Abcdef1!", "Correct horse 1!", strings.Repeat("Aa1!", 16), "", "ünïcödé"} {
		t.Run(pw, func(t *testing.T) {
			enc := mustHash(t, h, pw)
			if err := h.Verify(ctx, enc, pw); err != nil {
				t.Fatalf("Verify(right password) = %v", err)
			}
			for _, wrong := range []string{pw + "x", strings.ToUpper(pw) + "A", "Abcdef1?", pw + "\x00"} {
				if err := h.Verify(ctx, enc, wrong); !errors.Is(err, auth.ErrMismatch) {
					t.Errorf("Verify(%q) = %v, want ErrMismatch", wrong, err)
				}
			}
		})
	}
}

func TestHashIsSaltedPerCall(t *testing.T) {
	h := newHasher(t)
	seen := map[string]bool{}
	salts := map[string]bool{}
	for range 5 {
		enc := mustHash(t, h, "Abcdef1!")
		if seen[enc] {
			t.Fatalf("same hash twice: %s", enc)
		}
		seen[enc] = true
		salt := strings.Split(enc, "$")[4]
		if salts[salt] {
			t.Fatalf("same salt twice: %s", salt)
		}
		salts[salt] = true
	}
}

func TestHashPHCFormat(t *testing.T) {
	h := newHasher(t)
	enc := mustHash(t, h, "Abcdef1!")
	const prefix = "$argon2id$v=19$m=1024,t=1,p=1$"
	if !strings.HasPrefix(enc, prefix) {
		t.Fatalf("hash %q does not start with %q", enc, prefix)
	}
	parts := strings.Split(enc, "$")
	if len(parts) != 6 {
		t.Fatalf("hash %q has %d $-parts, want 6", enc, len(parts))
	}
	for i, want := range map[int]uint32{4: cheap.SaltLen, 5: cheap.KeyLen} {
		b, err := base64.RawStdEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("part %d %q is not unpadded base64: %v", i, parts[i], err)
		}
		if uint32(len(b)) != want {
			t.Errorf("part %d is %d bytes, want %d", i, len(b), want)
		}
	}
	if strings.Contains(enc, "Abcdef1!") {
		t.Fatal("hash contains the password")
	}
}

func TestZeroParamsAreDefault(t *testing.T) {
	h := auth.NewHasher(auth.Params{}, 0)
	enc := mustHash(t, h, "Abcdef1!")
	d := auth.DefaultParams
	want := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", d.Memory, d.Time, d.Threads)
	if !strings.HasPrefix(enc, want) {
		t.Fatalf("hash %q does not start with %q", enc, want)
	}
}

// The parameters travel with each hash, so raising them later (or lowering
// them for a small machine) keeps every existing password working.
func TestVerifyHashOfOtherParams(t *testing.T) {
	ctx := context.Background()
	others := []auth.Params{
		{Memory: 2048, Time: 2, Threads: 2, SaltLen: 8, KeyLen: 16},
		{Memory: 4096, Time: 3, Threads: 1, SaltLen: 32, KeyLen: 64},
	}
	h := newHasher(t)
	for _, p := range others {
		t.Run(fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads), func(t *testing.T) {
			enc := mustHash(t, auth.NewHasher(p, 1), "Abcdef1!")
			if !strings.Contains(enc, fmt.Sprintf("$m=%d,t=%d,p=%d$", p.Memory, p.Time, p.Threads)) {
				t.Fatalf("hash %q does not carry its params", enc)
			}
			if err := h.Verify(ctx, enc, "Abcdef1!"); err != nil {
				t.Fatalf("Verify with other params = %v", err)
			}
			if err := h.Verify(ctx, enc, "Abcdef1?"); !errors.Is(err, auth.ErrMismatch) {
				t.Fatalf("Verify(wrong) with other params = %v, want ErrMismatch", err)
			}
		})
	}
}

// A corrupted row or a hash from another system must be an error, never a
// panic, a success, or an allocation that takes the server down.
func TestVerifyRefusesBadEncodings(t *testing.T) {
	h := newHasher(t)
	ctx := context.Background()
	good := mustHash(t, h, "Abcdef1!")
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	with := func(i int, v string) string {
		p := slices.Clone(parts)
		p[i] = v
		return strings.Join(p, "$")
	}
	bad := map[string]string{
		"plain text":       "Abcdef1!",
		"dollar only":      "$",
		"bcrypt":           "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":          with(1, "argon2i"),
		"scrypt":           "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
		"old version":      with(2, "v=16"),
		"no version":       with(2, "x"),
		"missing part":     strings.Join(parts[:5], "$"),
		"extra part":       good + "$x",
		"bad params":       with(3, "m=a,t=1,p=1"),
		"negative memory":  with(3, "m=-1,t=1,p=1"),
		"zero time":        with(3, "m=1024,t=0,p=1"),
		"zero threads":     with(3, "m=1024,t=1,p=0"),
		"threads overflow": with(3, "m=1024,t=1,p=256"),
		"huge memory":      with(3, "m=4294967295,t=1,p=1"),
		"huge time":        with(3, "m=8,t=4294967295,p=1"),
		"bad salt":         with(4, "!!!"),
		"padded salt":      with(4, salt+"=="),
		"empty salt":       with(4, ""),
		"bad key":          with(5, "!!!"),
		"empty key":        with(5, ""),
		"short key":        with(5, key[:4]),
	}
	for name, enc := range bad {
		t.Run(name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Verify(%q) panicked: %v", enc, r)
					}
				}()
				err = h.Verify(ctx, enc, "Abcdef1!")
			}()
			if err == nil {
				t.Fatalf("Verify(%q) accepted the password", enc)
			}
		})
	}
}

func TestUnknownUserAlwaysFails(t *testing.T) {
	h := newHasher(t)
	ctx := context.Background()
	// Not even the dummy hash's own password gets in.
	for _, pw := range []string{"", "Abcdef1!", "panelftp-dummy-password"} {
		if err := h.Verify(ctx, "", pw); !errors.Is(err, auth.ErrMismatch) {
			t.Errorf("Verify(\"\", %q) = %v, want ErrMismatch", pw, err)
		}
	}
}

// An unknown user must cost a real hash, so response time does not tell
// which usernames exist. The bound is loose on purpose: it catches a
// skipped hash (a thousandfold difference), not scheduling noise.
func TestUnknownUserTakesAsLongAsRealCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	// Big enough that hashing, not overhead, dominates.
	h := auth.NewHasher(auth.Params{Memory: 8 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	ctx := context.Background()
	enc := mustHash(t, h, "Abcdef1!")
	median := func(f func()) time.Duration {
		var d []time.Duration
		for range 7 {
			start := time.Now()
			f()
			d = append(d, time.Since(start))
		}
		slices.Sort(d)
		return d[len(d)/2]
	}
	real := median(func() { _ = h.Verify(ctx, enc, "Wrong-pw1") })
	unknown := median(func() { _ = h.Verify(ctx, "", "Wrong-pw1") })
	t.Logf("median wrong password %v, unknown user %v", real, unknown)
	if unknown*3 < real || real*3 < unknown {
		t.Fatalf("unknown user took %v, a real check %v: not within 3x", unknown, real)
	}
}

func TestHashConcurrentUse(t *testing.T) {
	h := auth.NewHasher(cheap, 2)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			pw := fmt.Sprintf("Pw-%d-x", i)
			enc, err := h.Hash(ctx, pw)
			if err == nil {
				err = h.Verify(ctx, enc, pw)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Each zero field takes its default, so a config that sets only some
// parameters does not make argon2 panic.
func TestPartialParamsAreDefaulted(t *testing.T) {
	h := auth.NewHasher(auth.Params{Memory: 2048}, 1)
	enc := mustHash(t, h, "Abcdef1!")
	d := auth.DefaultParams
	want := fmt.Sprintf("$argon2id$v=19$m=2048,t=%d,p=%d$", d.Time, d.Threads)
	if !strings.HasPrefix(enc, want) {
		t.Fatalf("hash %q does not start with %q", enc, want)
	}
	parts := strings.Split(enc, "$")
	salt, _ := base64.RawStdEncoding.DecodeString(parts[4])
	key, _ := base64.RawStdEncoding.DecodeString(parts[5])
	if uint32(len(salt)) != d.SaltLen || uint32(len(key)) != d.KeyLen {
		t.Fatalf("salt %d bytes, key %d bytes, want %d and %d", len(salt), len(key), d.SaltLen, d.KeyLen)
	}
	if err := h.Verify(context.Background(), enc, "Abcdef1!"); err != nil {
		t.Fatal(err)
	}
}

// A hasher never makes a hash that Verify would then refuse.
func TestOwnHashesAlwaysVerify(t *testing.T) {
	for _, p := range []auth.Params{
		{Memory: 8, Time: 1, Threads: 1, SaltLen: 1, KeyLen: 1},
		{Memory: 64, Time: 1000, Threads: 4, SaltLen: 4, KeyLen: 8},
	} {
		h := auth.NewHasher(p, 1)
		enc := mustHash(t, h, "Abcdef1!")
		if err := h.Verify(context.Background(), enc, "Abcdef1!"); err != nil {
			t.Errorf("params %+v: own hash %q refused: %v", p, enc, err)
		}
	}
}
