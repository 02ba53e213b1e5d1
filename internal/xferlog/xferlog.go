// Package xferlog writes the transfer log: one line per finished or
// aborted FTP transfer, in the xferlog format of wu-ftpd (which ProFTPD,
// vsftpd and Pure-FTPd also write, and which log analysers and fail2ban
// read), or as JSON lines. A Writer is safe for concurrent use and is
// reopened on SIGHUP so that logrotate can move the file away.
//
// The xferlog line, fields separated by single spaces:
//
//	current-time transfer-time remote-host file-size filename transfer-type
//	special-action-flag direction access-mode username service-name
//	authentication-method authenticated-user-id completion-status
//
//	Thu Dec  3 13:14:15 2026 2 203.0.113.7 1048576 /site/index.html b _ i r dev.bob ftp 0 * c
//
// current-time is the local time when the line is written, as ctime(3)
// prints it; transfer-time is whole seconds, rounded up and at least 1
// (analysers divide by it); remote-host is the client's IP address;
// file-size the bytes transferred; filename the path inside the user's
// folder, with each space and control character replaced by "_" (as
// ProFTPD and wu-ftpd do: a field never holds a blank); transfer-type is
// a (ASCII) or b (binary); the special-action-flag is always "_" (no
// compression or tar on the fly); direction is o (download), i (upload)
// or d (delete); access-mode is r (a real, password-checked user);
// service-name is ftp; authentication-method 0 and authenticated-user-id
// "*" (no RFC 931 ident); completion-status is c (complete) or i
// (incomplete: aborted or failed).
package xferlog

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Direction of a transfer.
type Direction byte

const (
	Download Direction = 'o' // outgoing: RETR
	Upload   Direction = 'i' // incoming: STOR, APPE, STOU
	Delete   Direction = 'd' // DELE
)

func (d Direction) String() string {
	switch d {
	case Download:
		return "download"
	case Upload:
		return "upload"
	case Delete:
		return "delete"
	}
	return "unknown"
}

// Transfer is one finished or aborted transfer.
type Transfer struct {
	// End is when it finished (default: when it is logged).
	End      time.Time
	Duration time.Duration
	RemoteIP string
	// Bytes is how many bytes went over the data connection.
	Bytes int64
	// Path is the file inside the user's folder, e.g. /site/index.html.
	Path      string
	ASCII     bool
	Direction Direction
	Username  string
	// Account and Session appear in the JSON format only.
	Account string
	Session string
	// Complete is false for an aborted or failed transfer.
	Complete bool
}

// Logger receives every finished or aborted transfer. The FTP side calls
// Log once per transfer, from any goroutine; Log never blocks for long and
// reports its own write errors.
type Logger interface {
	Log(Transfer)
}

// Format is how a Writer writes transfers.
type Format string

const (
	// XferLog is wu-ftpd's one-line format (see the package comment).
	XferLog Format = "xferlog"
	// JSON is one JSON object per line.
	JSON Format = "json"
)

// ParseFormat reads a --transfer-log-format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case XferLog, JSON:
		return f, nil
	}
	return "", fmt.Errorf("%q is not a transfer log format: use xferlog or json", s)
}

// Writer appends transfers to a file.
type Writer struct {
	path   string
	format Format
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	f       *os.File
	failing bool // the last write failed; logged once until one succeeds
}

var _ Logger = (*Writer)(nil)

// Open opens (creating it, mode 0640) the file at path for appending in
// format. Write errors go to log (nil: slog.Default()).
func Open(path string, format Format, log *slog.Logger) (*Writer, error) {
	if _, err := ParseFormat(string(format)); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	w := &Writer{path: path, format: format, log: log, now: time.Now}
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	w.f = f
	return w, nil
}

func openFile(path string) (*os.File, error) {
	// O_APPEND: each line is one write at the end of the file, even when
	// another process (or a rotated copy's writer) appends too.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("opening the transfer log: %w", err)
	}
	return f, nil
}

// Log writes t as one line. A failed write is logged, once until writes
// succeed again, and the transfer is not retried.
func (w *Writer) Log(t Transfer) {
	if t.Direction.String() == "unknown" {
		w.log.Error("transfer not logged: unknown direction", "direction", int(t.Direction), "user", t.Username, "path", t.Path)
		return
	}
	if t.End.IsZero() {
		t.End = w.now()
	}
	var line []byte
	if w.format == JSON {
		line = jsonLine(t)
	} else {
		line = xferLine(t)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return // closed
	}
	_, err := w.f.Write(line)
	switch {
	case err != nil && !w.failing:
		w.failing = true
		w.log.Error("transfer log write failed; transfers go unlogged until it works again", "file", w.path, "err", err)
	case err == nil && w.failing:
		w.failing = false
		w.log.Info("transfer log writes again", "file", w.path)
	}
}

// Reopen opens the file at the path again (logrotate has renamed the old
// one) and closes the old descriptor. When the path cannot be opened, the
// old file stays in use and the error is returned.
func (w *Writer) Reopen() error {
	f, err := openFile(w.path)
	if err != nil {
		return err
	}
	w.mu.Lock()
	old := w.f
	w.f = f
	w.mu.Unlock()
	if old != nil {
		old.Close() // the new file is in use; the old one has nothing left to say
	}
	return nil
}

// Close closes the file; later transfers are dropped.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// xferLine formats t in the xferlog format, ending in a newline.
func xferLine(t Transfer) []byte {
	kind := byte('b')
	if t.ASCII {
		kind = 'a'
	}
	status := byte('i')
	if t.Complete {
		status = 'c'
	}
	var b []byte
	b = t.End.Local().AppendFormat(b, time.ANSIC) // "Thu Dec  3 13:14:15 2026"
	b = append(b, ' ')
	b = strconv.AppendInt(b, seconds(t.Duration), 10)
	b = append(b, ' ')
	b = append(b, field(t.RemoteIP)...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, max(t.Bytes, 0), 10)
	b = append(b, ' ')
	b = append(b, field(t.Path)...)
	b = append(b, ' ', kind, ' ', '_', ' ', byte(t.Direction), ' ', 'r', ' ')
	b = append(b, field(t.Username)...)
	b = append(b, " ftp 0 * "...)
	return append(b, status, '\n')
}

// seconds is d in whole seconds, rounded up, at least 1.
func seconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// field makes s one xferlog field: every space and control character
// (and any other blank) becomes "_", and an empty value is "_" too.
func field(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return '_'
		}
		return r
	}, s)
}

// jsonTransfer is the JSON shape of a transfer.
type jsonTransfer struct {
	Time      string  `json:"time"`
	Duration  float64 `json:"duration_seconds"`
	RemoteIP  string  `json:"remote_ip"`
	Bytes     int64   `json:"bytes"`
	Path      string  `json:"path"`
	Type      string  `json:"type"`
	Direction string  `json:"direction"`
	Username  string  `json:"username"`
	Account   string  `json:"account"`
	Session   string  `json:"session"`
	Complete  bool    `json:"complete"`
}

func jsonLine(t Transfer) []byte {
	kind := "binary"
	if t.ASCII {
		kind = "ascii"
	}
	b, _ := json.Marshal(jsonTransfer{ // a struct of strings and numbers always encodes
		Time: t.End.UTC().Format(time.RFC3339Nano), Duration: t.Duration.Seconds(), RemoteIP: t.RemoteIP,
		Bytes: t.Bytes, Path: t.Path, Type: kind, Direction: t.Direction.String(), Username: t.Username,
		Account: t.Account, Session: t.Session, Complete: t.Complete,
	})
	return append(b, '\n')
}
