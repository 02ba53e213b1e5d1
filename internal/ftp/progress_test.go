package ftp

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowRate is how fast the slow clients below read or send: 1 KiB every
// 100 ms, about 10 KB/s.
const (
	slowPiece = 1 << 10
	slowEvery = 100 * time.Millisecond
)

// TestSlowClientCounters: the bytes of a transfer to or from a client
// moving 10 KB/s are counted as they move, not once per chunk (a 64 KiB
// chunk takes 6.4 s at that rate): STAT, which reads the same counter as
// the live sessions, sees bytes within 2 s and then a change at least
// every 3 s, over plain TCP (sendfile, splice) and TLS.
func TestSlowClientCounters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tls    bool
		upload bool
	}{
		{"download", false, false},
		{"upload", false, true},
		{"TLS download", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := serve(t, &Server{TLSConfig: testTLS(t)})
			ts.write("/big.bin", string(randomBytes(t, 16<<20)))
			c := ts.dial()
			if tc.tls {
				c.authTLS(clientTLS())
				c.must(200, "PBSZ 0")
				c.must(200, "PROT P")
			}
			c.login()
			port := c.epsvPort()
			data := dialSmallBuffer(t, port)
			if tc.tls {
				data = tls.Client(data, clientTLS())
			}
			stop := make(chan struct{})
			defer close(stop)
			if tc.upload {
				c.must(150, "STOR up.bin")
				go trickle(data, stop, func(b []byte) (int, error) { return data.Write(b) })
			} else {
				c.must(150, "RETR big.bin")
				go trickle(data, stop, func(b []byte) (int, error) { return data.Read(b) })
			}
			checkCounterMoves(t, c, 6*time.Second)
		})
	}
}

// dialSmallBuffer connects to the passive port with a 4 KiB receive
// buffer, so that little of a download waits in the client's kernel.
func dialSmallBuffer(t *testing.T, port int) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// trickle moves slowPiece bytes every slowEvery with move until stop.
func trickle(conn net.Conn, stop chan struct{}, move func([]byte) (int, error)) {
	b := make([]byte, slowPiece)
	tick := time.NewTicker(slowEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			conn.Close()
			return
		case <-tick.C:
			if _, err := move(b); err != nil {
				return
			}
		}
	}
}

// checkCounterMoves asks STAT for the transfer's bytes every 200 ms for
// d: the first bytes must show within 2 s, and no count may stay the
// same for 3 s after that.
func checkCounterMoves(t *testing.T, c *client, d time.Duration) {
	t.Helper()
	start := time.Now()
	var last int64
	lastChange := start
	for time.Since(start) < d {
		time.Sleep(200 * time.Millisecond)
		msg := c.must(211, "STAT")
		n := statBytes(t, msg)
		now := time.Now()
		switch {
		case n != last:
			last, lastChange = n, now
		case last == 0 && now.Sub(start) > 2*time.Second:
			t.Fatalf("no bytes counted %v after the transfer began (%q)", now.Sub(start).Round(time.Millisecond), msg)
		case now.Sub(lastChange) > 3*time.Second:
			t.Fatalf("the count stayed at %d bytes for %v", n, now.Sub(lastChange).Round(time.Millisecond))
		}
	}
	t.Logf("%d bytes counted in %v", last, d)
}

// statBytes reads the bytes moved from STAT's "Transfer in progress:
// RETR /big.bin, 12345 of 4194304 bytes".
func statBytes(t *testing.T, msg string) int64 {
	t.Helper()
	_, rest, ok := strings.Cut(msg, ", ")
	if !ok {
		t.Fatalf("STAT reply %q has no byte count", msg)
	}
	field, _, _ := strings.Cut(rest, " ")
	n, err := strconv.ParseInt(field, 10, 64)
	if err != nil {
		t.Fatalf("STAT reply %q: %v", msg, err)
	}
	return n
}
