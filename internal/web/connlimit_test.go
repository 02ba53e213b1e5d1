package web

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestLimitListener: a client past its cap is closed at once, a slot comes
// back when a connection closes, and trusted proxies are not capped.
func TestLimitListener(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		trusted []netip.Prefix
		capped  bool
	}{
		{"capped", nil, true},
		{"trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln := LimitListener(inner, 2, tt.trusted)
			defer ln.Close()
			accepted := make(chan net.Conn, 10)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					accepted <- c
				}
			}()
			dial := func() net.Conn {
				c, err := net.Dial("tcp", inner.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				return c
			}
			// closedByServer reports whether the server closed c at once.
			closedByServer := func(c net.Conn) bool {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, err := c.Read(make([]byte, 1))
				return err == io.EOF
			}
			first, _ := dial(), dial()
			s1, s2 := <-accepted, <-accepted
			third := dial()
			if tt.capped {
				if !closedByServer(third) {
					t.Fatal("a third connection from one client stayed open")
				}
				s1.Close() // the first connection ends: its slot is free
				if !closedByServer(first) {
					t.Fatal("closing the server side did not end the client's connection")
				}
				fourth := dial()
				s4 := <-accepted
				s4.Write([]byte("x"))
				if _, err := fourth.Read(make([]byte, 1)); err != nil {
					t.Fatalf("a connection after a slot was freed: %v", err)
				}
				s4.Close()
			} else {
				s3 := <-accepted
				s3.Close()
			}
			s2.Close()
		})
	}
}
