package ftp

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// writeCounter counts the writes that reach a real connection.
type writeCounter struct {
	net.Conn
	writes atomic.Int64
}

func (c *writeCounter) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestTLSDownloadGathersRecords: a download over TLS reaches the socket
// in writes of many records each (crypto/tls writes every 16 KiB record
// on its own), arrives whole, and leaves no buffer behind.
func TestTLSDownloadGathersRecords(t *testing.T) {
	t.Parallel()
	data := randomBytes(t, 8<<20)
	name := filepath.Join(t.TempDir(), "f")
	os.WriteFile(name, data, 0o644)
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ln := listenLocal(t)
	received := make(chan []byte, 1)
	go func() {
		c, err := tls.Dial("tcp", ln.Addr().String(), clientTLS())
		if err != nil {
			received <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		received <- b
	}()
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	counter := &writeCounter{Conn: raw}
	g := &gatherConn{Conn: counter}
	conn := tls.Server(g, &tls.Config{Certificates: []tls.Certificate{testCert(t, "x")}})
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	before := counter.writes.Load()
	buf := make([]byte, copyBufSize)
	if n, err := copyChunk(conn, f, int64(len(data)), buf, func(int64) {}); err != nil || n != int64(len(data)) {
		t.Fatalf("copy = %d, %v", n, err)
	}
	conn.Close()
	writes := counter.writes.Load() - before
	if g.buf != nil {
		t.Error("the connection keeps its buffer after Close")
	}
	if got := <-received; !bytes.Equal(got, data) {
		t.Fatalf("the client got %d bytes, not the file of %d", len(got), len(data))
	}
	// One write per record would be 512; gathering makes about 64.
	if max := int64(len(data) / (64 << 10)); writes > max {
		t.Errorf("%d writes for %d MiB, want at most %d", writes, len(data)>>20, max)
	}
}

// TestGatherCloseDoesNotWaitForABlockedWrite: when ABOR or a kick closes
// a TLS data connection while a write is stuck on a client that stopped
// reading, Close must not wait for that write.
func TestGatherCloseDoesNotWaitForABlockedWrite(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer b.Close()
	g := &gatherConn{Conn: a}
	g.Write([]byte("gathered"))
	g.mu.Lock() // as a write blocked in the kernel holds it
	defer g.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- g.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the blocked write")
	}
	if _, err := b.Read(make([]byte, 1)); err == nil {
		t.Error("the connection is still open")
	}
}
