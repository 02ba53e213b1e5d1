package ftp

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"time"
)

const (
	// watchDelay is how long a transfer runs before the control connection
	// is watched: a small transfer ends sooner, needing no goroutine and
	// sending its 150 and 226 replies in one write.
	watchDelay = 5 * time.Millisecond
	// maxQueued bounds the commands read during a transfer; past it the
	// control connection is not read until the transfer ends.
	maxQueued = 16
)

// watcher reads the control connection while a transfer runs in the
// command goroutine, so that ABOR and STAT are answered during it. It
// starts watchDelay after the transfer (the command goroutine does not
// read meanwhile), first writing the buffered replies (the 150).
//
// What it reads: ABOR breaks the transfer (426, then 226 for the ABOR);
// STAT without an argument is answered at once (211 with the progress);
// every other command, QUIT included, is queued and run after the
// transfer's final reply, in order.
type watcher struct {
	c     *Conn
	mu    sync.Mutex
	timer *time.Timer
	state watchState
	done  chan struct{} // closed when run returns, once it has started
	queue []string
	err   error // the control connection failed
}

type watchState int

const (
	watchWaiting watchState = iota
	watchRunning
	watchStopping
	watchStopped
)

// watch arms a watcher for the transfer starting now.
func (c *Conn) watch() *watcher {
	w := &watcher{c: c}
	w.mu.Lock() // run starts after this, seeing everything done before
	delay := watchDelay
	if c.srv.watchAfter > 0 {
		delay = c.srv.watchAfter
	}
	w.timer = time.AfterFunc(delay, w.run)
	w.mu.Unlock()
	return w
}

// stop ends the watcher and returns the commands it queued and the
// error that ended the control connection, if any. The command goroutine
// reads the control connection again afterwards.
func (w *watcher) stop() ([]string, error) {
	w.mu.Lock()
	if w.state == watchWaiting {
		w.state = watchStopped
		w.timer.Stop()
		w.mu.Unlock()
		return nil, nil
	}
	w.state = watchStopping
	_ = w.c.ctrl.SetReadDeadline(time.Unix(1, 0)) // wakes the read in run
	w.mu.Unlock()
	<-w.done
	return w.queue, w.err
}

// replied writes the replies buffered since the watcher started, the
// 150 of a transfer whose data connection opened late: the watcher
// flushed once, when it started, and only writes again for STAT.
// Before it starts, the replies stay buffered for it (or for the end of
// a short transfer).
func (w *watcher) replied() {
	w.mu.Lock()
	running := w.state == watchRunning
	w.mu.Unlock()
	if running {
		_ = w.c.out.flush()
	}
}

func (w *watcher) run() {
	w.mu.Lock()
	if w.state != watchWaiting {
		w.mu.Unlock()
		return
	}
	w.state = watchRunning
	w.done = make(chan struct{})
	_ = w.c.ctrl.SetReadDeadline(time.Time{}) // a transfer is not idle
	w.mu.Unlock()
	defer close(w.done)
	defer w.recoverPanic()
	c := w.c
	_ = c.out.flush()
	for len(w.queue) < maxQueued {
		line, ok := c.in.line()
		if !ok {
			if err := c.in.fill(); err != nil && !w.retry(err) {
				return
			}
			continue
		}
		switch verb, arg := parseLine(line); {
		case verb == "ABOR" && !c.aborted(): // a second ABOR is queued
			c.abortTransfer()
		case verb == "STAT" && arg == "":
			c.out.reply(211, c.status())
			_ = c.out.flush()
		default:
			w.queue = append(w.queue, line)
		}
	}
}

// retry decides what a read error means: the wake-up of stop (false),
// a deadline left over from before the transfer (cleared; true), or the
// end of the control connection, which ends the transfer too (false).
func (w *watcher) retry(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.state == watchStopping {
			return false
		}
		_ = w.c.ctrl.SetReadDeadline(time.Time{})
		return true
	}
	w.err = err
	w.c.abortTransfer() // the client is gone: so is its transfer
	return false
}

func (w *watcher) recoverPanic() {
	if r := recover(); r != nil {
		w.c.log.Error("panic in FTP connection", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		w.err = errors.New("internal error")
		w.c.Close()
	}
}
