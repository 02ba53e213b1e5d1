package ftpd

import (
	"context"
	"sync"

	"golang.org/x/time/rate"

	"github.com/panelftp/panelftp/internal/ftp"
)

// rateBook shares each user's upload and download token buckets between
// all of the user's sessions on this node, so that the user's rate is a
// cap on the sum of its transfers, however many it runs at once. A
// bucket holds a quarter of a second's worth of bytes: after a pause a
// transfer may send that much at once, never more, and then goes at the
// rate. Other nodes keep their own buckets: with N nodes a user may
// reach N times its rate.
type rateBook struct {
	mu sync.Mutex
	m  map[string]*userRates
}

// userRates are the buckets of one user; nil means no limit.
type userRates struct {
	key      string
	refs     int           // guarded by rateBook.mu
	up, down *rate.Limiter // guarded by rateBook.mu
}

func newRateBook() *rateBook { return &rateBook{m: map[string]*userRates{}} }

// acquire returns the buckets of user, set to the rates (bytes per
// second; 0 = no limit) of its newest log-in, or nil when the user has no
// limit and no other session. Release them when the session ends.
func (b *rateBook) acquire(user string, up, down int64) *userRates {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.m[user]
	if r == nil {
		if up <= 0 && down <= 0 {
			return nil
		}
		r = &userRates{key: user}
		b.m[user] = r
	}
	r.refs++
	r.up = setRate(r.up, up)
	r.down = setRate(r.down, down)
	return r
}

func (b *rateBook) release(r *userRates) {
	if r == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.refs--; r.refs <= 0 && b.m[r.key] == r {
		delete(b.m, r.key)
	}
}

// limiter returns the bucket of one direction, nil for no limit.
func (b *rateBook) limiter(r *userRates, upload bool) *rate.Limiter {
	if r == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if upload {
		return r.up
	}
	return r.down
}

// setRate changes lim to bytesPerSecond, making it when needed; the
// transfers already waiting on it follow the new rate.
func setRate(lim *rate.Limiter, bytesPerSecond int64) *rate.Limiter {
	if bytesPerSecond <= 0 {
		return nil
	}
	burst := int(max(bytesPerSecond/4, 1))
	if lim == nil {
		return rate.NewLimiter(rate.Limit(bytesPerSecond), burst)
	}
	lim.SetLimit(rate.Limit(bytesPerSecond))
	lim.SetBurst(burst)
	return lim
}

// throttled is a transfer held to a bucket: before each chunk it waits
// for the chunk's tokens, and a chunk is at most the bucket's size. The
// engine still moves each chunk with sendfile(2) or splice(2).
type throttled struct {
	ftp.Transfer
	lim *rate.Limiter
	ctx context.Context // ends with the session: a kick stops the wait
}

// throttle returns t held to the user's rate for its direction, or t
// itself when there is no limit.
func (s *session) throttle(t ftp.Transfer, upload bool) ftp.Transfer {
	lim := s.cl.srv.rates.limiter(s.u.rates, upload)
	if lim == nil {
		return t
	}
	return &throttled{Transfer: t, lim: lim, ctx: s.cl.ctx}
}

// Allow implements ftp.Transfer: it waits until the bucket holds the
// chunk, then asks the transfer (the quota) how much of it may move.
func (t *throttled) Allow(n int64) (int64, error) {
	for {
		burst := t.lim.Burst()
		chunk := min(n, int64(burst))
		err := t.lim.WaitN(t.ctx, int(chunk))
		switch {
		case err == nil:
			return t.Transfer.Allow(chunk)
		case t.ctx.Err() != nil:
			return 0, ftp.ErrAborted
		case t.lim.Burst() < burst:
			// The rate was lowered meanwhile and the chunk no longer
			// fits in the bucket: ask again with its new size.
		default:
			return 0, err
		}
	}
}
