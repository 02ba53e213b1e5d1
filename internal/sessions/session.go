package sessions

import (
	"math"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// speedTau is the time constant of the smoothed transfer speed: a change
// of rate shows fully after about two of them.
const speedTau = time.Second

// Session is one live FTP connection. Its methods are safe for concurrent
// use; Progress and Touch, called on the transfer path, use only atomics.
type Session struct {
	reg         *Registry
	id          string
	ip          netip.Addr
	remote      string
	connectedAt time.Time
	kick        func()

	kickOnce sync.Once
	kicked   atomic.Bool
	closed   atomic.Bool

	// Hot counters, updated by the transfer path.
	lastActivity atomic.Int64 // unix nanoseconds
	bytesDone    atomic.Int64
	bytesUp      atomic.Int64
	bytesDown    atomic.Int64
	uploading    atomic.Bool

	mu       sync.Mutex
	username string
	account  string
	// versions are those of the user and account the log-in read.
	versions   domain.Versions
	client     string
	tlsControl bool
	tlsData    bool
	activity   domain.Activity
	file       string
	bytesTotal int64
	transferNo int64 // counts Begin calls, to reset the speed sampler
	// speed sampler, touched only by snapshot
	sampleNo    int64
	sampleAt    time.Time
	sampleBytes int64
	speed       float64
}

// ID is unique across processes, nodes and restarts, and sorts in
// connection order.
func (s *Session) ID() string { return s.id }

// IP is the client's address.
func (s *Session) IP() netip.Addr { return s.ip }

// Username is "" until Login succeeds.
func (s *Session) Username() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.username
}

// Login records that the connection logged in as username of account,
// having read them at versions v (domain.Login.Versions). A change of
// either that this node has already been told of refuses the log-in with
// ErrKicked, because it read the user as it was before the change; any
// later change ends the session. maxSessions, when positive, replaces
// Limits.MaxPerUser for this user (higher or lower). A *LimitError reports
// that the user's limit or, counting every node, MaxPerIP is reached;
// ErrCannotCount that the other nodes' sessions could not be counted.
func (s *Session) Login(username, account string, v domain.Versions, maxSessions int) error {
	return s.reg.login(s, username, account, v, maxSessions)
}

// login returns what Login recorded.
func (s *Session) login() (username, account string, v domain.Versions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.username, s.account, s.versions
}

// SetClient records the client software the client named (FTP CLNT).
func (s *Session) SetClient(name string) {
	s.update(func() { s.client = name })
}

// SetTLS records whether the control and data connections use TLS.
func (s *Session) SetTLS(control, data bool) {
	s.update(func() { s.tlsControl, s.tlsData = control, data })
}

// Touch records activity on the session.
func (s *Session) Touch() { s.lastActivity.Store(s.reg.now().UnixNano()) }

// Begin records that a transfer or listing of file started. total is the
// number of bytes expected, or 0 when unknown.
func (s *Session) Begin(a domain.Activity, file string, total int64) {
	s.update(func() {
		s.activity, s.file, s.bytesTotal = a, file, total
		s.transferNo++
		s.bytesDone.Store(0)
		s.uploading.Store(a == domain.ActivityUpload)
	})
	s.Touch()
}

// Progress adds n bytes moved by the running transfer.
func (s *Session) Progress(n int64) {
	if n <= 0 {
		return
	}
	s.bytesDone.Add(n)
	if s.uploading.Load() {
		s.bytesUp.Add(n)
	} else {
		s.bytesDown.Add(n)
	}
	s.Touch()
}

// End records that the running transfer or listing finished.
func (s *Session) End() {
	s.update(func() {
		s.activity, s.file, s.bytesTotal = domain.ActivityIdle, "", 0
		s.bytesDone.Store(0)
		s.uploading.Store(false)
	})
	s.Touch()
}

// Busy reports whether a transfer or listing is running.
func (s *Session) Busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.activity != domain.ActivityIdle
}

// Totals returns the bytes received from and sent to the client so far.
func (s *Session) Totals() (up, down int64) { return s.bytesUp.Load(), s.bytesDown.Load() }

// Kick ends the session: it calls the kick function given to Open, once.
func (s *Session) Kick() {
	s.kickOnce.Do(func() {
		s.kicked.Store(true)
		if s.kick != nil {
			s.kick()
		}
	})
}

// Kicked reports whether Kick was called; the transfer path checks it
// between chunks.
func (s *Session) Kicked() bool { return s.kicked.Load() }

// Close removes the session from the registry when its connection ended.
// It is idempotent.
func (s *Session) Close() {
	if s.closed.CompareAndSwap(false, true) {
		s.reg.remove(s)
	}
}

func (s *Session) update(fn func()) {
	s.mu.Lock()
	fn()
	s.mu.Unlock()
}

// snapshot returns the session as the domain sees it, updating the
// smoothed speed from the bytes moved since the previous snapshot.
func (s *Session) snapshot(now time.Time) domain.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	done := s.bytesDone.Load()
	x := domain.Session{
		ID: s.id, Username: s.username, Account: s.account,
		RemoteAddr: s.remote, Client: s.client,
		TLSControl: s.tlsControl, TLSData: s.tlsData,
		ConnectedAt:  s.connectedAt.Truncate(0),
		LastActivity: time.Unix(0, s.lastActivity.Load()),
		Activity:     s.activity, File: s.file,
		BytesDone: done, BytesTotal: s.bytesTotal,
		BytesUp: s.bytesUp.Load(), BytesDown: s.bytesDown.Load(),
	}
	if s.activity != domain.ActivityUpload && s.activity != domain.ActivityDownload {
		s.speed, s.sampleAt = 0, time.Time{}
		return x
	}
	if s.sampleNo != s.transferNo || s.sampleAt.IsZero() {
		s.sampleNo, s.sampleAt, s.sampleBytes, s.speed = s.transferNo, now, done, 0
	} else if dt := now.Sub(s.sampleAt); dt >= 200*time.Millisecond {
		rate := float64(done-s.sampleBytes) / dt.Seconds()
		alpha := 1 - math.Exp(-float64(dt)/float64(speedTau))
		s.speed += alpha * (rate - s.speed)
		s.sampleAt, s.sampleBytes = now, done
	}
	x.Speed = int64(math.Round(s.speed))
	return x
}
