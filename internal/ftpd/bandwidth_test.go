package ftpd

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	engine "github.com/panelftp/panelftp/internal/ftp"
)

// TestBandwidth: a user limited to 200 KiB/s each way needs at least 4.5
// s for 1 MiB down, shared by two sessions, and 1 MiB up at the same
// time, never getting more than a second's worth ahead of the rate; an
// unlimited user of the same server, meanwhile, is not slowed.
func TestBandwidth(t *testing.T) {
	const rate = 200 << 10 // bytes per second
	e := newEnv(t, envOptions{quiet: true})
	e.addUser("fast.bob")
	kbps := int64(200)
	e.setControls(testUser, domain.ControlsChange{UploadKBps: &kbps, DownloadKBps: &kbps})
	e.write("/a.bin", string(randomBytes(t, 512<<10)))
	e.write("/b.bin", string(randomBytes(t, 512<<10)))
	e.write("/fast.bin", string(randomBytes(t, 1<<20)))
	up := randomBytes(t, 1<<20)

	var (
		received atomic.Int64 // by the limited user's two downloads
		mu       sync.Mutex
		first    time.Time // the first limited download asked
		overrun  string
	)
	download := func(name string) time.Time {
		c := e.dial("")
		start := time.Now()
		mu.Lock()
		if first.IsZero() || start.Before(first) {
			first = start
		}
		mu.Unlock()
		r, err := c.Retr(name)
		if err != nil {
			t.Errorf("RETR %s: %v", name, err)
			return time.Now()
		}
		buf := make([]byte, 8<<10)
		for {
			n, err := r.Read(buf)
			got := received.Add(int64(n))
			mu.Lock()
			elapsed := time.Since(first)
			if limit := int64(rate * (elapsed.Seconds() + 1)); got > limit && overrun == "" {
				overrun = elapsed.String()
			}
			mu.Unlock()
			if err != nil {
				break
			}
		}
		if err := r.Close(); err != nil {
			t.Errorf("RETR %s: %v", name, err)
		}
		return time.Now()
	}

	var wg sync.WaitGroup
	var downEnd [2]time.Time
	var upTook, fastTook time.Duration
	for i, name := range []string{"/a.bin", "/b.bin"} {
		wg.Go(func() { downEnd[i] = download(name) })
	}
	wg.Go(func() {
		c := e.dial("")
		start := time.Now()
		if err := c.Stor("/up.bin", bytes.NewReader(up)); err != nil {
			t.Errorf("STOR: %v", err)
		}
		upTook = time.Since(start)
	})
	wg.Go(func() {
		c := e.dialAs("fast.bob", testPass)
		start := time.Now()
		if got := retr(t, c, "/fast.bin", 0); len(got) != 1<<20 {
			t.Errorf("unlimited download: %d bytes", len(got))
		}
		fastTook = time.Since(start)
	})
	wg.Wait()

	downTook := max(downEnd[0].Sub(first), downEnd[1].Sub(first))
	t.Logf("limited: 1 MiB down in two sessions %v, 1 MiB up %v; unlimited: 1 MiB down %v", downTook, upTook, fastTook)
	if received.Load() != 1<<20 {
		t.Fatalf("the limited downloads received %d bytes", received.Load())
	}
	if downTook < 4500*time.Millisecond {
		t.Errorf("1 MiB down at 200 KiB/s in two sessions took %v, want at least 4.5s", downTook)
	}
	if upTook < 4500*time.Millisecond {
		t.Errorf("1 MiB up at 200 KiB/s took %v, want at least 4.5s", upTook)
	}
	if overrun != "" {
		t.Errorf("the limited downloads got more than a second's worth ahead of the rate at %s", overrun)
	}
	if fastTook > min(downTook, upTook)/2 {
		t.Errorf("the unlimited user's 1 MiB took %v, the limited user's %v and %v: the unlimited one was slowed", fastTook, downTook, upTook)
	}
	if !bytes.Equal([]byte(e.read("/up.bin")), up) {
		t.Error("the limited upload arrived changed")
	}
}

// nullTransfer lets every byte through.
type nullTransfer struct{}

func (nullTransfer) File() *os.File               { return nil }
func (nullTransfer) Allow(n int64) (int64, error) { return n, nil }
func (nullTransfer) Progress(int64)               {}
func (nullTransfer) Close(error) error            { return nil }

// TestRateBook: a user's sessions share one bucket; what they are granted
// never runs ahead of the rate by more than the bucket (a quarter of a
// second's worth); a new log-in's rate applies to the transfers already
// running; a kick stops a wait at once; the book forgets a user whose
// sessions have all ended.
func TestRateBook(t *testing.T) {
	const rate = 4 << 20
	book := newRateBook()
	if r := book.acquire(testUser, 0, 0); r != nil {
		t.Fatalf("a user without limits got buckets: %+v", r)
	}
	r1, r2 := book.acquire(testUser, 0, rate), book.acquire(testUser, 0, rate)
	if r1 != r2 || book.limiter(r1, true) != nil || book.limiter(r1, false) == nil {
		t.Fatal("two sessions of one user do not share one download bucket, or got an upload one")
	}
	lim := book.limiter(r1, false)
	if lim.Burst() != rate/4 {
		t.Fatalf("bucket of %d bytes, want a quarter of a second's worth (%d)", lim.Burst(), rate/4)
	}

	var granted atomic.Int64
	var ahead atomic.Int64 // the most granted beyond rate × elapsed
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			tr := &throttled{Transfer: nullTransfer{}, lim: lim, ctx: t.Context()}
			for moved := int64(0); moved < 1<<20; {
				n, err := tr.Allow(256 << 10)
				if err != nil || n <= 0 {
					t.Errorf("Allow = %d, %v", n, err)
					return
				}
				moved += n
				total := granted.Add(n)
				if over := total - int64(rate*time.Since(start).Seconds()); over > ahead.Load() {
					ahead.Store(over)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	t.Logf("4 MiB through a 4 MiB/s bucket in %v, at most %d bytes ahead of the rate", took, ahead.Load())
	if took < 700*time.Millisecond {
		t.Errorf("4 MiB at 4 MiB/s with a 1 MiB bucket took %v, want at least 0.75s", took)
	}
	if a := ahead.Load(); a > rate/4 {
		t.Errorf("granted %d bytes ahead of the rate, more than the bucket (%d)", a, rate/4)
	}

	r3 := book.acquire(testUser, 0, 64<<10) // a new log-in reads a lower rate
	if book.limiter(r3, false) != lim || lim.Burst() != 16<<10 {
		t.Fatalf("the new rate did not reach the shared bucket: burst %d", lim.Burst())
	}
	tr := &throttled{Transfer: nullTransfer{}, lim: lim, ctx: t.Context()}
	if n, err := tr.Allow(1 << 20); n > 16<<10 || err != nil {
		t.Errorf("Allow after the rate was lowered = %d, %v; want at most 16 KiB", n, err)
	}

	// At 1 KiB/s, 40 waits of a full bucket (256 bytes) queue for 10 s;
	// a kick ends them all at once.
	r4 := book.acquire(testUser, 0, 1<<10)
	ctx, kick := context.WithCancel(t.Context())
	slow := &throttled{Transfer: nullTransfer{}, lim: book.limiter(r4, false), ctx: ctx}
	errs := make(chan error, 40)
	for range cap(errs) {
		go func() { _, err := slow.Allow(256); errs <- err }()
	}
	time.Sleep(100 * time.Millisecond)
	kicked := time.Now()
	kick()
	aborted := 0
	for range cap(errs) {
		if errors.Is(<-errs, engine.ErrAborted) {
			aborted++
		}
	}
	if took := time.Since(kicked); took > 5*time.Second || aborted < cap(errs)/2 {
		t.Errorf("after a kick, the waits ended in %v, %d of %d aborted", took, aborted, cap(errs))
	}

	for _, r := range []*userRates{r1, r2, r3, r4} {
		book.release(r)
	}
	if len(book.m) != 0 {
		t.Errorf("the book still holds %d users after every session ended", len(book.m))
	}
	book.release(nil) // a session without limits
}
