package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// opKind is one kind of FTP operation a session does.
type opKind int

const (
	opLogin    opKind = iota // connect, AUTH TLS when used, USER/PASS, FEAT, TYPE, PBSZ/PROT
	opMkdir                  // MKD and CWD of the session's folder
	opList                   // MLSD or LIST, checked against what the session uploaded
	opUpload                 // STOR of a random file
	opDownload               // RETR, checked by size and SHA-256
	opRename                 // RNFR/RNTO
	opDelete                 // DELE
	opQuit                   // QUIT
	numOps
)

func (k opKind) String() string {
	return [numOps]string{"login", "mkdir+cwd", "list", "upload", "download", "rename", "delete", "quit"}[k]
}

// tally is what one session counted; sessions merge theirs at the end.
type tally struct {
	lat       [numOps][]time.Duration // one per successful operation
	errs      [numOps]int
	bytesUp   int64
	bytesDown int64
	listed    int // files seen in listings
	checked   int // downloads whose SHA-256 matched
	busy      int // log-ins answered "421 Server busy" and tried again
}

func (t *tally) add(o *tally) {
	for k := range numOps {
		t.lat[k] = append(t.lat[k], o.lat[k]...)
		t.errs[k] += o.errs[k]
	}
	t.bytesUp += o.bytesUp
	t.bytesDown += o.bytesDown
	t.listed += o.listed
	t.checked += o.checked
	t.busy += o.busy
}

func (t *tally) ops() (n int) {
	for k := range numOps {
		n += len(t.lat[k]) + t.errs[k]
	}
	return n
}

func (t *tally) errors() (n int) {
	for k := range numOps {
		n += t.errs[k]
	}
	return n
}

// percentile returns the p-th percentile (0..100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1)*p/100 + 0.5)
	return sorted[min(i, len(sorted)-1)]
}

// progress counts operations as they happen, for the periodic line.
type progress struct {
	ops, errs, up, down atomic.Int64
	live                atomic.Int64 // sessions logged in
}

// errorLog keeps every failure's description: the first maxKept of each
// kind of operation in full, so that a storm of one kind does not hide
// the others.
type errorLog struct {
	start time.Time
	mu    sync.Mutex
	count int
	kept  [numOps][]string
}

const maxKept = 25

func (l *errorLog) add(k opKind, format string, args ...any) {
	msg := fmt.Sprintf("+%6.2fs ", time.Since(l.start).Seconds()) + fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if len(l.kept[k]) < maxKept {
		l.kept[k] = append(l.kept[k], msg)
	}
}

// snapshot returns the number of failures and the kept descriptions,
// grouped by kind of operation.
func (l *errorLog) snapshot() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var all []string
	for k := range numOps {
		all = append(all, l.kept[k]...)
	}
	return l.count, all
}

// mib formats bytes as MiB with one decimal; negative means unknown.
func mib(n int64) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// ms formats a duration in milliseconds, with more precision below 10 ms.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}
