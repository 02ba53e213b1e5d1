package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCertificate writes a self-signed certificate and its key into dir,
// as an administrator puts one on storage every node mounts.
func writeCertificate(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "ftp.example.test"},
		DNSNames: []string{"ftp.example.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}))
	return certFile, keyFile
}

// peerCertificate does AUTH TLS on addr and returns the server's
// certificate.
func peerCertificate(t *testing.T, addr string) []byte {
	t.Helper()
	f, greeting := dialFTP(t, addr)
	if !strings.HasPrefix(greeting, "220") {
		t.Fatalf("greeting %q", greeting)
	}
	if r := f.cmd(t, "AUTH TLS"); !strings.HasPrefix(r, "234") {
		t.Fatalf("AUTH TLS: %s", r)
	}
	c := tls.Client(f.Conn, &tls.Config{InsecureSkipVerify: true})
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Raw
}

// TestNodesSharingCertificateFilesPresentOneCertificate: two nodes given
// the same --tls-cert and --tls-key present the same certificate, so a
// client behind a load balancer sees one whichever node it reaches; each
// node without them generates its own.
func TestNodesSharingCertificateFilesPresentOneCertificate(t *testing.T) {
	t.Parallel()
	certFile, keyFile := writeCertificate(t, t.TempDir())
	want, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(want)
	a := startServer(t, "--tls-cert", certFile, "--tls-key", keyFile)
	b := startServer(t, "--tls-cert", certFile, "--tls-key", keyFile)
	for _, n := range []*server{a, b} {
		if got := peerCertificate(t, n.addr()); !bytes.Equal(got, block.Bytes) {
			t.Errorf("node %s presents another certificate than the shared file's", n.addr())
		}
	}
	own1, own2 := peerCertificate(t, startServer(t).addr()), peerCertificate(t, startServer(t).addr())
	if bytes.Equal(own1, own2) {
		t.Error("two nodes without --tls-cert present the same certificate; the test cannot tell them apart")
	}
}

// TestBanRemoveAppliesPromptly: a ban lifted with the CLI while the server
// runs (one node, SQLite) lets the address back as soon as the server reads
// the change feed, polled every 250 ms, not after seconds.
func TestBanRemoveAppliesPromptly(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.cli.ok("ban", "add", "127.0.0.1", "--for", "1h")
	waitUntil(t, 10*time.Second, "the CLI's ban in force", func() bool {
		f, greeting := dialFTP(t, s.addr())
		f.Close()
		return strings.HasPrefix(greeting, "421")
	})
	out := s.cli.ok("ban", "remove", "127.0.0.1")
	lifted := time.Now()
	if !strings.Contains(out, "lifted") {
		t.Errorf("ban remove says %q", out)
	}
	took := waitUntil(t, 10*time.Second, "the address let back in", func() bool {
		f, greeting := dialFTP(t, s.addr())
		f.Close()
		return strings.HasPrefix(greeting, "220")
	})
	t.Logf("let back in %v after ban remove returned", time.Since(lifted).Round(time.Millisecond))
	if took > 3*time.Second {
		t.Errorf("the lifted ban kept the address out for %v; the server reads the change feed every 250 ms", took)
	}
}

// TestNodeOwnPublicHostOverridesTheLiveSetting: the saved passive address
// applies to the nodes started without --public-host; a node started with
// one announces its own.
func TestNodeOwnPublicHostOverridesTheLiveSetting(t *testing.T) {
	t.Parallel()
	a := startServer(t, "--public-host", "198.51.100.10")
	b := launch(t, a.cli) // another node on the same database
	a.cli.ok("settings", "set", "--public-host", "203.0.113.5")
	pasv := func(n *server) string {
		f := rawLogin(t, n.addr(), "web.bob", goodPassword)
		defer f.Close()
		return f.cmd(t, "PASV")
	}
	waitUntil(t, 10*time.Second, "the node without --public-host announcing the saved address", func() bool {
		return strings.Contains(pasv(b), "(203,0,113,5,")
	})
	if r := pasv(a); !strings.Contains(r, "(198,51,100,10,") {
		t.Errorf("PASV on the node started with --public-host 198.51.100.10: %s", r)
	}
}
