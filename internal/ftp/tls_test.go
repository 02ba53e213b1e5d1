package ftp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

// testCert returns a self-signed certificate for name.
func testCert(t testing.TB, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{name},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// testTLS serves certificates for "default.test" and, chosen by name,
// "a.test" and "b.test".
func testTLS(t testing.TB) *tls.Config {
	t.Helper()
	certs := map[string]tls.Certificate{}
	for _, n := range []string{"default.test", "a.test", "b.test"} {
		certs[n] = testCert(t, n)
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c, ok := certs[hello.ServerName]; ok {
				return &c, nil
			}
			c := certs["default.test"]
			return &c, nil
		},
	}
}

func clientTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

func peerName(c *client) string {
	return c.conn.(*tls.Conn).ConnectionState().PeerCertificates[0].Subject.CommonName
}

// TestHostChoosesCertificate: HOST (RFC 7151) picks the certificate of
// the AUTH TLS that follows when the client sends no SNI; SNI wins when
// it does; without either the default certificate is served.
func TestHostChoosesCertificate(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{TLSConfig: testTLS(t)})
	for _, tc := range []struct{ host, sni, want string }{
		{"", "", "default.test"},
		{"a.test", "", "a.test"},
		{"A.TEST", "", "a.test"},
		{"a.test", "b.test", "b.test"},
		{"", "b.test", "b.test"},
		{"unknown.test", "", "default.test"},
	} {
		c := ts.dial()
		if tc.host != "" {
			c.must(220, "HOST %s", tc.host)
		}
		conf := clientTLS()
		conf.ServerName = tc.sni
		c.authTLS(conf)
		if got := peerName(c); got != tc.want {
			t.Errorf("HOST %q, SNI %q: certificate of %s, want %s", tc.host, tc.sni, got, tc.want)
		}
		c.login()
	}
}

// TestTLSRequired: without TLS, USER and PASS get a 530 that says what to
// do, on a connection that stays open; AUTH TLS then works on it, and a
// transfer waits for PROT P (521).
func TestTLSRequired(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{TLSConfig: testTLS(t), RequireTLS: func() bool { return true }})
	ts.write("/f.txt", "secret")
	c := ts.dial()
	if msg := c.must(530, "USER %s", testUser); msg != msgTLSRequired {
		t.Errorf("USER without TLS: %q", msg)
	}
	c.must(530, "PASS %s", testPass)
	c.must(200, "NOOP") // still open
	c.authTLS(clientTLS())
	c.login()
	c.must(200, "PBSZ 0")
	c.must(200, "PROT C")
	c.must(229, "EPSV")
	if code, msg := c.cmd("RETR f.txt"); code != 521 || !strings.Contains(msg, "PROT P") {
		t.Fatalf("RETR with PROT C: %d %q, want 521", code, msg)
	}
	c.must(200, "PROT P")
	data := c.epsv()
	c.must(150, "RETR f.txt")
	if got := readAll(t, data); got != "secret" {
		t.Fatalf("RETR over TLS: %q", got)
	}
	c.expect(226)
}

// TestImplicitTLS serves TLS from the first byte, with data connections
// protected without PROT.
func TestImplicitTLS(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{TLSConfig: testTLS(t)})
	ln := listenLocal(t)
	done := make(chan error, 1)
	go func() { done <- ts.srv.ServeTLS(ln) }()
	conn, err := tls.Dial("tcp", ln.Addr().String(), clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	c := wrapClient(t, conn, 220)
	c.tls = clientTLS()
	c.login()
	ts.write("/f.txt", "implicit")
	data := c.epsv()
	c.must(150, "RETR f.txt")
	if got := readAll(t, data); got != "implicit" {
		t.Fatalf("RETR: %q", got)
	}
	c.expect(226)
	if control, data := ts.be.lastConn().TLS(); !control || !data {
		t.Errorf("TLS() = %v, %v; want true, true", control, data)
	}
}
