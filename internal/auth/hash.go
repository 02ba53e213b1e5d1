// Package auth owns password hashing: argon2id in the PHC string format,
// with the parameters stored beside each hash so they can be raised later
// without invalidating old hashes, and a bound on how many hashes run at
// once so a burst of log-ins cannot exhaust memory.
package auth

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/panelftp/panelftp/internal/domain"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams follow OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane):
// about 20 ms per check on one core, slow for an offline attacker, and
// 19 MiB × the hash pool stays small.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// ErrMismatch means the password does not match the hash.
var ErrMismatch = errors.New("password does not match")

// Hasher hashes and verifies passwords, running at most a fixed number of
// argon2id computations at once.
type Hasher struct {
	params Params
	slots  chan struct{}
	// dummy is a real hash to verify against when a user does not exist,
	// so an unknown user costs the same time as a wrong password.
	dummy string
	// checks counts Verify calls that ran argon2id, for metrics and tests.
	checks atomic.Int64
	// onWait, when set, receives how long each hash waited for a slot.
	onWait atomic.Pointer[func(time.Duration)]
}

// ObserveWait makes f receive, for every hash and check, how long it
// waited for a free slot of the pool (0 when one was free at once). f
// must be quick: it runs on the log-in path.
func (h *Hasher) ObserveWait(f func(time.Duration)) { h.onWait.Store(&f) }

// NewHasher returns a Hasher with params (each zero field: its value in
// DefaultParams; others kept within what Verify accepts) that runs at most
// concurrency hashes at once (0: 4).
func NewHasher(params Params, concurrency int) *Hasher {
	// Field by field: argon2 panics on a zero time or thread count.
	d := DefaultParams
	params.Memory = cmp.Or(params.Memory, d.Memory)
	params.Time = cmp.Or(params.Time, d.Time)
	params.Threads = cmp.Or(params.Threads, d.Threads)
	params.SaltLen = cmp.Or(params.SaltLen, d.SaltLen)
	params.KeyLen = cmp.Or(params.KeyLen, d.KeyLen)
	// Never make a hash that verify would refuse.
	params.Memory, params.Time = min(params.Memory, maxMemory), min(params.Time, maxTime)
	params.SaltLen, params.KeyLen = max(params.SaltLen, minSaltLen), max(params.KeyLen, minKeyLen)
	if concurrency <= 0 {
		concurrency = 4
	}
	h := &Hasher{params: params, slots: make(chan struct{}, concurrency)}
	h.dummy = h.hash("panelftp-dummy-password")
	return h
}

// Hash returns the PHC-format argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hash(password), nil
}

// Verify checks password against encoded. It returns ErrMismatch for a
// wrong password, domain.ErrBusy when ctx ends while waiting for a hash slot.
// An empty encoded (unknown user) is checked against a dummy hash so it
// takes as long as a real check, and always fails.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	h.checks.Add(1)
	if encoded == "" {
		_ = verify(h.dummy, password)
		return ErrMismatch
	}
	return verify(encoded, password)
}

func (h *Hasher) acquire(ctx context.Context) error {
	observe := h.onWait.Load()
	select {
	case h.slots <- struct{}{}: // a slot is free: no clock reading
		if observe != nil {
			(*observe)(0)
		}
		return nil
	default:
	}
	start := time.Now()
	select {
	case h.slots <- struct{}{}:
		if observe != nil {
			(*observe)(time.Since(start))
		}
		return nil
	case <-ctx.Done():
		if observe != nil {
			(*observe)(time.Since(start))
		}
		return domain.ErrBusy
	}
}

func (h *Hasher) release() { <-h.slots }

func (h *Hasher) hash(password string) string {
	p := h.params
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Bounds on what verify accepts from a stored hash. They leave room to
// raise the parameters well beyond DefaultParams (RFC 9106's strongest
// recommendation is 2 GiB, one pass).
const (
	maxMemory  = 2 << 20 // KiB
	maxTime    = 64
	minSaltLen = 8
	minKeyLen  = 16
)

func verify(encoded, password string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return fmt.Errorf("auth: not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return fmt.Errorf("auth: unsupported argon2 version %q", parts[2])
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return fmt.Errorf("auth: bad argon2 parameters %q", parts[3])
	}
	// argon2 panics on t=0 or p=0, and a corrupted m or t would allocate
	// terabytes or run for ever while holding a hash slot.
	if p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Memory > maxMemory {
		return fmt.Errorf("auth: argon2 parameters %q out of range", parts[3])
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("auth: bad salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return fmt.Errorf("auth: bad hash: %w", err)
	}
	// An empty or tiny key would match (nearly) any password.
	if len(salt) < minSaltLen || len(want) < minKeyLen {
		return fmt.Errorf("auth: argon2 salt or hash too short")
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// Checks returns how many password checks ran argon2id so far.
func (h *Hasher) Checks() int64 { return h.checks.Load() }
