package ftp

import (
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCommandsDuringTransfers sends STAT, NOOP and an unknown command,
// again and again, while downloads and uploads run, plain and over TLS
// (AUTH TLS, PROT P). Each gets its one reply in the documented order
// (STAT at once, the others after the transfer's 226), and under the
// race detector nothing races.
func TestCommandsDuringTransfers(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{TLSConfig: testTLS(t)})
	f, _ := os.Create(filepath.Join(ts.be.dir, "big.bin"))
	f.Truncate(16 << 20)
	f.Close()
	const rounds = 5
	for _, secure := range []bool{false, true} {
		for _, upload := range []bool{false, true} {
			name := fmt.Sprintf("TLS %v upload %v", secure, upload)
			t.Run(name, func(t *testing.T) {
				c := ts.dial()
				if secure {
					c.authTLS(clientTLS())
				}
				c.login()
				if secure {
					c.must(200, "PBSZ 0")
					c.must(200, "PROT P")
				}
				data := c.epsv()
				sent := make(chan struct{})
				moved := make(chan error, 1)
				if upload {
					c.must(150, "STOR up.bin")
					go func() {
						chunk := make([]byte, 32<<10)
						for i := 0; ; i++ {
							if _, err := data.Write(chunk); err != nil {
								moved <- err
								return
							}
							select {
							case <-sent:
								moved <- data.Close()
								return
							default:
								time.Sleep(time.Millisecond)
							}
						}
					}()
				} else {
					c.must(150, "RETR big.bin")
					go func() {
						buf := make([]byte, 64<<10)
						for {
							_, err := data.Read(buf)
							if err == io.EOF {
								moved <- nil
								return
							}
							if err != nil {
								moved <- err
								return
							}
							time.Sleep(time.Millisecond)
						}
					}()
				}
				for range rounds {
					if _, err := fmt.Fprintf(c.conn, "STAT\r\nNOOP\r\nXYZZY\r\n"); err != nil {
						t.Fatal(err)
					}
					time.Sleep(10 * time.Millisecond)
				}
				close(sent)
				var codes []int
				for len(codes) < 3*rounds+1 {
					code, msg := c.read()
					if code == 0 {
						t.Fatalf("connection ended after %v: %s", codes, msg)
					}
					codes = append(codes, code)
				}
				if err := <-moved; err != nil {
					t.Fatalf("data connection: %v", err)
				}
				checkOrder(t, codes, rounds)
				c.must(200, "NOOP")
			})
		}
	}
}

// checkOrder wants the STAT replies (211) before the transfer's 226, and
// after it the NOOP and unknown command replies in the order sent.
func checkOrder(t *testing.T, codes []int, rounds int) {
	t.Helper()
	i := 0
	for i < len(codes) && codes[i] == 211 {
		i++
	}
	if i != rounds || codes[i] != 226 {
		t.Fatalf("replies %v: want %d × 211, then 226", codes, rounds)
	}
	for k, code := range codes[i+1:] {
		if want := []int{200, 500}[k%2]; code != want {
			t.Fatalf("replies %v: after the 226, want 200 and 500 in turn", codes)
		}
	}
}

// TestTLSSessionReuse: with TLSSessionReuse, a TLS data connection is
// accepted only when it resumes the session of its own control
// connection: not without resumption, not with another connection's.
func TestTLSSessionReuse(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{TLSConfig: testTLS(t), TLSSessionReuse: true})
	ts.write("/f.txt", "reused")
	start := func(conf *tls.Config) *client {
		c := ts.dial()
		c.authTLS(conf)
		c.login()
		c.must(200, "PBSZ 0")
		c.must(200, "PROT P")
		return c
	}
	refused := func(c *client) {
		t.Helper()
		data := c.epsv()
		go io.Copy(io.Discard, data) // runs the client's handshake
		c.must(150, "RETR f.txt")
		if code, msg := c.read(); code != 522 {
			t.Errorf("data connection without this session: %d %q, want 522", code, msg)
		}
		c.must(200, "NOOP")
	}
	withCache := func(cache tls.ClientSessionCache) *tls.Config {
		conf := clientTLS()
		conf.ServerName, conf.ClientSessionCache = "ftp.test", cache
		return conf
	}

	refused(start(clientTLS())) // no session cache: no resumption

	c := start(withCache(tls.NewLRUClientSessionCache(4)))
	if got := c.retrieve("RETR f.txt"); got != "reused" {
		t.Fatalf("resumed data connection got %q", got)
	}

	shared := tls.NewLRUClientSessionCache(4)
	a := start(withCache(shared))
	b := start(withCache(shared)) // replaces a's ticket in the cache
	if got := b.retrieve("RETR f.txt"); got != "reused" {
		t.Fatalf("b's resumed data connection got %q", got)
	}
	refused(a) // a's data connection offers b's ticket
}
