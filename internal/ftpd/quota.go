package ftpd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/ftp"
	"github.com/panelftp/panelftp/internal/jail"
)

// QuotaStore keeps each FTP user's quota usage for every node sharing it
// (see store.Quotas, which the store implements): what the user's folder
// holds (allocated bytes and entries), reserved before a write adds to
// it, and which nodes serve the user.
type QuotaStore interface {
	HoldQuota(ctx context.Context, username, node string, ttl time.Duration) (u domain.QuotaUsage, found, shared bool, err error)
	RenewQuotaHolds(ctx context.Context, node string, ttl time.Duration) error
	ReleaseQuotaHold(ctx context.Context, username, node string, unusedBytes, unusedFiles int64) error
	SetQuotaUsage(ctx context.Context, username string, measured, base domain.QuotaUsage) error
	ReserveQuota(ctx context.Context, username string, bytes, files, maxBytes, maxFiles int64) (addedBytes, addedFiles int64, err error)
}

const (
	// holdTTL is how long a node's hold of a user lasts unless renewed
	// (every holdRenew): a node that died stops holding its users that
	// long after, and the next log-in measures their folders again.
	holdTTL   = 30 * time.Second
	holdRenew = 10 * time.Second
	// quotaCallTimeout bounds one call to the QuotaStore.
	quotaCallTimeout = 5 * time.Second
	// A node reserves a user's bytes a chunk at a time: 1 MiB, or 1/16 of
	// a smaller quota (at least 64 KiB); entries 64 at a time, or 1/16 of
	// a smaller limit. It keeps at most two chunks unused.
	maxByteChunk = 1 << 20
	minByteChunk = 64 << 10
	maxFileChunk = 64
	// dirEstimate is what a new folder is reserved before it exists (one
	// block of most filesystems); its real size is counted once made.
	dirEstimate = 4 << 10
)

// Refusals of the quota, turned into replies by their callers.
var (
	errBytesFull = errors.New("quota full")
	errFilesFull = errors.New("file limit reached")
	// errQuotaDown: the QuotaStore failed, so nothing is written.
	errQuotaDown = &ftp.Error{Code: 451, Message: "The quota cannot be checked right now; try again in a moment."}
)

// quotaBook shares one quota between the sessions of a user on this node
// and holds the user in the QuotaStore while they last. The first session
// of a user that no other node holds measures the folder.
type quotaBook struct {
	st   QuotaStore
	node string
	log  *slog.Logger
	// staleAge: temporary upload files older than that are leftovers.
	staleAge time.Duration

	mu sync.Mutex
	m  map[string]*quota
}

func newQuotaBook(st QuotaStore, node string, staleAge time.Duration, log *slog.Logger) *quotaBook {
	return &quotaBook{st: st, node: node, staleAge: staleAge, log: log, m: map[string]*quota{}}
}

// quota is one user's quota on this node.
type quota struct {
	book      *quotaBook
	key, user string
	dir       string
	refs      int           // guarded by quotaBook.mu
	closing   chan struct{} // guarded by quotaBook.mu; set once the last session left

	once sync.Once
	err  error // of the first log-in's hold and measure

	mu                     sync.Mutex
	maxBytes, maxFiles     int64 // of the newest log-in; 0 = no limit
	leaseBytes, leaseFiles int64 // reserved in the store and not used yet
}

// acquire returns the quota of login's user, holding it in the store and
// measuring the folder through jfs when no other node holds it. Release it
// when the session ends.
func (b *quotaBook) acquire(ctx context.Context, login domain.Login, jfs *jail.Fs) (*quota, error) {
	key := login.User.Username + "\x00" + login.Directory
	for {
		b.mu.Lock()
		q := b.m[key]
		if q != nil && q.closing != nil { // its last session is letting go of it
			wait := q.closing
			b.mu.Unlock()
			<-wait
			continue
		}
		if q == nil {
			q = &quota{book: b, key: key, user: login.User.Username, dir: login.Directory}
			b.m[key] = q
		}
		q.refs++
		b.mu.Unlock()

		q.mu.Lock()
		q.maxBytes, q.maxFiles = login.QuotaBytes, login.MaxFiles
		q.mu.Unlock()
		q.once.Do(func() { q.err = q.open(ctx, jfs) })
		if q.err != nil {
			b.release(q)
			return nil, q.err
		}
		return q, nil
	}
}

// release ends a session's use of q; the last one gives back what this
// node reserved and did not use, and lets go of the hold.
func (b *quotaBook) release(q *quota) {
	b.mu.Lock()
	if q.refs--; q.refs > 0 {
		b.mu.Unlock()
		return
	}
	q.closing = make(chan struct{})
	b.mu.Unlock()

	q.mu.Lock()
	unusedBytes, unusedFiles := q.leaseBytes, q.leaseFiles
	q.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), quotaCallTimeout)
	if err := b.st.ReleaseQuotaHold(ctx, q.user, b.node, unusedBytes, unusedFiles); err != nil {
		b.log.Warn("quota: could not give back the space reserved for a user; it counts until the next measure",
			"user", q.user, "bytes", unusedBytes, "files", unusedFiles, "err", err)
	}
	cancel()
	b.mu.Lock()
	delete(b.m, q.key)
	b.mu.Unlock()
	close(q.closing)
}

// held counts the users this node holds.
func (b *quotaBook) held() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

// run renews this node's holds until ctx ends.
func (b *quotaBook) run(ctx context.Context) {
	tick := time.NewTicker(holdRenew)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if b.held() == 0 {
			continue
		}
		callCtx, cancel := context.WithTimeout(ctx, quotaCallTimeout)
		err := b.st.RenewQuotaHolds(callCtx, b.node, holdTTL)
		cancel()
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			b.log.Warn("quota: could not renew this node's holds; retrying", "err", err)
		case err == nil && failing:
			b.log.Info("quota: holds renewed again")
		}
		failing = err != nil
	}
}

// open holds the user and, unless another node holds it already for the
// same folder, measures the folder: allocated bytes, files, links and
// folders, leaving out (and removing) the temporary files of uploads cut
// short by a crash.
func (q *quota) open(ctx context.Context, jfs *jail.Fs) error {
	b := q.book
	callCtx, cancel := context.WithTimeout(ctx, quotaCallTimeout)
	stored, found, shared, err := b.st.HoldQuota(callCtx, q.user, b.node, holdTTL)
	cancel()
	if err != nil {
		return fmt.Errorf("holding the quota: %w", err)
	}
	if found && shared && stored.Directory == q.dir {
		return nil
	}
	now := time.Now()
	u, stale := jfs.UsageSkipping(ctx, func(_ string, fi fs.FileInfo) bool { return staleUpload(fi, now, b.staleAge) })
	for _, name := range stale {
		if err := jfs.Remove(name); err != nil {
			b.log.Warn("could not remove the temporary file of an interrupted upload", "user", q.user, "file", name, "err", err)
		} else {
			b.log.Info("removed the temporary file of an interrupted upload", "user", q.user, "file", name)
		}
	}
	m := domain.QuotaUsage{Directory: q.dir, Bytes: u.Allocated, Files: u.Files + u.Folders, MeasuredAt: now}
	callCtx, cancel = context.WithTimeout(ctx, quotaCallTimeout)
	defer cancel()
	if err := b.st.SetQuotaUsage(callCtx, q.user, m, stored); err != nil {
		return fmt.Errorf("storing the quota measure: %w", err)
	}
	b.log.Info("quota measured", "user", q.user, "bytes", m.Bytes, "files", m.Files, "partial", u.Partial)
	return nil
}

// chunks are how much q reserves from the store at a time.
func (q *quota) chunks() (bytes, files int64) {
	bytes, files = maxByteChunk, maxFileChunk
	if q.maxBytes > 0 {
		bytes = min(max(q.maxBytes/16, minByteChunk), maxByteChunk)
	}
	if q.maxFiles > 0 {
		files = min(max(q.maxFiles/16, 1), maxFileChunk)
	}
	return bytes, files
}

// reserve asks the store for bytes and files within limits (0 = none),
// adding what it grants to the lease. q.mu is held.
func (q *quota) reserve(bytes, files, maxBytes, maxFiles int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), quotaCallTimeout)
	defer cancel()
	gotBytes, gotFiles, err := q.book.st.ReserveQuota(ctx, q.user, bytes, files, maxBytes, maxFiles)
	if err != nil {
		q.book.log.Error("quota: reserving failed", "user", q.user, "err", err)
		return errQuotaDown
	}
	q.leaseBytes += gotBytes
	q.leaseFiles += gotFiles
	return nil
}

// take counts bytes and files about to be written. Files must all fit;
// with partial, it takes what is left of the bytes (errBytesFull then
// says it is not all), otherwise all or nothing. It returns the bytes
// taken.
func (q *quota) take(bytes, files int64, partial bool) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if bytes > q.leaseBytes || files > q.leaseFiles {
		chunkBytes, chunkFiles := q.chunks()
		var wantBytes, wantFiles int64
		if bytes > q.leaseBytes {
			wantBytes = max(bytes-q.leaseBytes, chunkBytes)
		}
		if files > q.leaseFiles {
			wantFiles = max(files-q.leaseFiles, chunkFiles)
		}
		if err := q.reserve(wantBytes, wantFiles, q.maxBytes, q.maxFiles); err != nil {
			return 0, err
		}
	}
	switch {
	case files > q.leaseFiles:
		return 0, errFilesFull
	case bytes > q.leaseBytes && partial:
		got := max(0, q.leaseBytes)
		q.leaseBytes -= got
		q.leaseFiles -= files
		return got, errBytesFull
	case bytes > q.leaseBytes:
		return 0, errBytesFull
	}
	q.leaseBytes -= bytes
	q.leaseFiles -= files
	return bytes, nil
}

// adjust counts bytes and files used (positive: written whatever the
// limits, as a file turned out larger than reserved) or freed (negative),
// and keeps the lease between nothing and two chunks, giving the rest
// back to the store. A store that fails leaves the difference for the
// next call.
func (q *quota) adjust(bytes, files int64) {
	if bytes == 0 && files == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.leaseBytes -= bytes
	q.leaseFiles -= files
	chunkBytes, chunkFiles := q.chunks()
	var wantBytes, wantFiles int64
	switch {
	case q.leaseBytes < 0:
		wantBytes = -q.leaseBytes
	case q.leaseBytes > 2*chunkBytes:
		wantBytes = chunkBytes - q.leaseBytes
	}
	switch {
	case q.leaseFiles < 0:
		wantFiles = -q.leaseFiles
	case q.leaseFiles > 2*chunkFiles:
		wantFiles = chunkFiles - q.leaseFiles
	}
	if wantBytes != 0 || wantFiles != 0 {
		_ = q.reserve(wantBytes, wantFiles, 0, 0)
	}
}

// refusal is the reply to errBytesFull or errFilesFull (other errors
// pass); kept says what became of the partial upload, if any.
func (q *quota) refusal(err error, kept string) error {
	q.mu.Lock()
	maxBytes, maxFiles := q.maxBytes, q.maxFiles
	q.mu.Unlock()
	switch {
	case errors.Is(err, errBytesFull):
		msg := fmt.Sprintf("Quota of %d MB reached: delete files to make room", maxBytes>>20)
		if kept != "" {
			msg += "; " + kept
		}
		return &ftp.Error{Code: 552, Message: msg + "."}
	case errors.Is(err, errFilesFull):
		return &ftp.Error{Code: 552, Message: fmt.Sprintf("Limit of %d files and folders reached: delete some to make room.", maxFiles)}
	}
	return err
}

// allocated is the disk space fi's file uses.
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}

// freedBy is what removing the entry fi (or replacing it) gives back: its
// blocks and one entry; nothing for a file with other hard links, whose
// blocks stay in use.
func freedBy(fi fs.FileInfo) (bytes, files int64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && !fi.IsDir() && st.Nlink > 1 {
		return 0, 0
	}
	return allocated(fi), 1
}

// freed gives back what removing fi freed, when the user has a quota.
func (u *userState) freed(fi fs.FileInfo) {
	if u.quota != nil {
		bytes, files := freedBy(fi)
		u.quota.adjust(-bytes, -files)
	}
}
