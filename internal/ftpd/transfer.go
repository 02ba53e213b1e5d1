package ftpd

import (
	"context"
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
	up     *upload // uploads only
	moved  int64
	start  time.Time
}

var _ ftp.Transfer = (*transfer)(nil)

// File implements ftp.Transfer.
func (t *transfer) File() *os.File { return t.f }

// Allow implements ftp.Transfer: an upload may write where it leaves no
// hole, and what the quota leaves (see allowUpload).
func (t *transfer) Allow(n int64) (int64, error) {
	if !t.upload {
		return n, nil
	}
	return t.allowUpload(n)
}

// Progress implements ftp.Transfer: the session counts the bytes.
func (t *transfer) Progress(n int64) {
	t.moved += n
	t.s.cl.sess.Progress(n)
}

// Close implements ftp.Transfer: it closes the file and logs the
// transfer. An upload's file is settled with the quota; an atomic one
// replaces its target, or is removed when the upload failed. The partial
// file of an interrupted upload in place is kept, so the client can
// resume it.
func (t *transfer) Close(failed error) error {
	var err error
	if t.upload {
		err = t.finishUpload(failed)
	} else {
		err = t.f.Close()
	}
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
