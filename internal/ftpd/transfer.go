package ftpd

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/panelftp/panelftp/internal/ftp"
)

// transfer is the file of one RETR, STOR or APPE: it keeps the quota,
// moves the session's counters and writes the transfer's log line. The
// engine calls it from the connection's goroutine only.
type transfer struct {
	f      *os.File
	s      *session
	name   string
	upload bool

	pos, size int64 // uploads: write position and file size, for the quota
	moved     int64
	start     time.Time
}

var _ ftp.Transfer = (*transfer)(nil)

// File implements ftp.Transfer.
func (t *transfer) File() *os.File { return t.f }

// Allow implements ftp.Transfer: an upload may write what fits in the
// quota at its position (overwriting costs nothing).
func (t *transfer) Allow(n int64) (int64, error) {
	u := t.s.u
	if !t.upload || u.quota == nil {
		return n, nil
	}
	room := u.quota.room(u.limit) + max(0, t.size-t.pos)
	if room >= n {
		return n, nil
	}
	t.s.cl.log.Warn("FTP quota exceeded", "user", u.login.User.Username, "file", t.name, "quota_mb", u.login.User.QuotaMB)
	return room, &ftp.Error{Code: 552, Message: fmt.Sprintf("Quota of %d MB reached; the partial file is kept.", u.login.User.QuotaMB)}
}

// Progress implements ftp.Transfer: the session counts the bytes, and an
// upload's bytes past the former end of the file count against the quota.
func (t *transfer) Progress(n int64) {
	t.moved += n
	t.s.cl.sess.Progress(n)
	if !t.upload {
		return
	}
	t.pos += n
	if t.pos > t.size {
		if q := t.s.u.quota; q != nil {
			q.add(t.pos - t.size)
		}
		t.size = t.pos
	}
}

// Close implements ftp.Transfer: it closes the file and logs the
// transfer. The partial file of an interrupted upload is kept, so the
// client can resume it.
func (t *transfer) Close(failed error) error {
	err := t.f.Close()
	t.s.cl.sess.End()
	if t.upload && (isDiskFull(failed) || isDiskFull(err)) {
		t.s.cl.log.Error("FTP upload failed: disk full", "user", t.s.u.login.User.Username, "file", t.name)
	}
	t.logDone(failed, err)
	t.report(failed, err)
	return err
}

// logDone writes the transfer's log line, one per file, so it is built
// only when the logger keeps it, and without boxing each value.
func (t *transfer) logDone(failed, closeErr error) {
	ctx := context.Background()
	log := t.s.cl.log
	if !log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	secs := time.Since(t.start).Seconds()
	dir := "download"
	if t.upload {
		dir = "upload"
	}
	var attrs [8]slog.Attr
	a := append(attrs[:0],
		slog.String("user", t.s.u.login.User.Username), slog.String("file", t.name),
		slog.String("direction", dir), slog.Int64("bytes", t.moved),
		slog.Float64("seconds", math.Round(secs*1000)/1000))
	switch {
	case failed != nil:
		a = append(a, slog.String("status", "interrupted"), slog.String("err", failed.Error()))
	case closeErr != nil:
		a = append(a, slog.String("status", "failed"), slog.String("err", closeErr.Error()))
	default:
		a = append(a, slog.String("status", "ok"))
	}
	log.LogAttrs(ctx, slog.LevelInfo, "FTP transfer", a...)
}
