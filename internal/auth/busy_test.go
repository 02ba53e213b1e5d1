package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

var cheapParams = Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// While every slot is held, a caller whose context ends gets ErrBusy
// instead of queueing forever; once a slot frees up, hashing works again.
func TestBusyWhenSlotsHeld(t *testing.T) {
	for _, n := range []int{1, 3} {
		h := NewHasher(cheapParams, n)
		enc := h.hash("Abcdef1!")
		for range n {
			if err := h.acquire(context.Background()); err != nil {
				t.Fatalf("acquire: %v", err)
			}
		}

		calls := map[string]func(ctx context.Context) error{
			"Verify": func(ctx context.Context) error { return h.Verify(ctx, enc, "Abcdef1!") },
			"Verify unknown": func(ctx context.Context) error {
				return h.Verify(ctx, "", "Abcdef1!")
			},
			"Hash": func(ctx context.Context) error { _, err := h.Hash(ctx, "Abcdef1!"); return err },
		}
		for name, call := range calls {
			// start before the deadline is set, so that a pause between the
			// two on a busy machine cannot make the wait look short.
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			err := call(ctx)
			cancel()
			if !errors.Is(err, domain.ErrBusy) {
				t.Errorf("%d slots held: %s = %v, want ErrBusy", n, name, err)
			}
			if d := time.Since(start); d < 25*time.Millisecond {
				t.Errorf("%s gave up after %v, before its context ended", name, d)
			}
		}

		// A waiter gets the slot as soon as it is released.
		done := make(chan error, 1)
		go func() { done <- h.Verify(context.Background(), enc, "Abcdef1!") }()
		select {
		case err := <-done:
			t.Fatalf("Verify ran while all %d slots were held: %v", n, err)
		case <-time.After(20 * time.Millisecond):
		}
		h.release()
		if err := <-done; err != nil {
			t.Fatalf("Verify after release = %v", err)
		}
		for range n - 1 {
			h.release()
		}
		if len(h.slots) != 0 {
			t.Fatalf("%d slots still held after all releases", len(h.slots))
		}
	}
}

// ObserveWait reports every wait for a slot: none when one is free, the
// whole wait when the pool stays full.
func TestObserveWait(t *testing.T) {
	h := NewHasher(cheapParams, 1)
	waits := make(chan time.Duration, 4)
	h.ObserveWait(func(d time.Duration) { waits <- d })
	enc, err := h.Hash(context.Background(), "Abcdef1!")
	if err != nil {
		t.Fatal(err)
	}
	if d := <-waits; d != 0 {
		t.Errorf("wait with a free slot = %v, want 0", d)
	}
	if err := h.acquire(context.Background()); err != nil { // hold the only slot
		t.Fatal(err)
	}
	<-waits
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := h.Verify(ctx, enc, "Abcdef1!"); !errors.Is(err, domain.ErrBusy) {
		t.Fatalf("Verify with the pool full = %v, want ErrBusy", err)
	}
	if d := <-waits; d < 25*time.Millisecond {
		t.Errorf("observed wait %v, want the ~30ms the check waited", d)
	}
	h.release()
}
