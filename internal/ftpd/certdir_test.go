package ftpd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// certPEM returns a self-signed certificate for names, and its key, in
// PEM; the common name is the first name.
func certPEM(t *testing.T, names ...string) (cert, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     names,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// writeCertDir writes example.com.crt and .key, and shop.pem (a wildcard
// certificate, certificate and key in one file).
func writeCertDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cert, key := certPEM(t, "example.com", "www.example.com")
	os.WriteFile(filepath.Join(dir, "example.com.crt"), cert, 0o644)
	os.WriteFile(filepath.Join(dir, "example.com.key"), key, 0o600)
	cert, key = certPEM(t, "*.shop.test")
	os.WriteFile(filepath.Join(dir, "shop.pem"), append(cert, key...), 0o600)
	os.WriteFile(filepath.Join(dir, "README"), []byte("not a certificate"), 0o644)
	return dir
}

// servedName connects, optionally sends HOST, runs AUTH TLS with sni
// (implicit: TLS from the first byte) and returns the certificate's name.
func servedName(t *testing.T, addr, host, sni string, implicit bool) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	conf := &tls.Config{InsecureSkipVerify: true, ServerName: sni}
	if implicit {
		tc := tls.Client(conn, conf)
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		return tc.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	if host != "" {
		if _, err := tp.Cmd("HOST %s", host); err != nil {
			t.Fatal(err)
		}
		if _, _, err := tp.ReadResponse(220); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tp.Cmd("AUTH TLS"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tp.ReadResponse(234); err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(conn, conf)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return tc.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// TestCertDir: with TLSCertDir, SNI (explicit and implicit TLS) and HOST
// (explicit TLS) pick the certificate of the domain, wildcards included;
// any other name gets the default certificate; ReloadTLS picks up a new
// domain.
func TestCertDir(t *testing.T) {
	dir := writeCertDir(t)
	e := newEnv(t, envOptions{cfg: Config{TLSCertDir: dir, ImplicitTLSAddr: "127.0.0.1:0"}})
	def := servedName(t, e.Addr, "", "", false)
	if def == "example.com" || def == "*.shop.test" {
		t.Fatalf("no name: certificate %q, want the default", def)
	}
	implicit := e.Srv.ImplicitTLSAddr().String()
	for _, tc := range []struct {
		host, sni string
		implicit  bool
		want      string
	}{
		{"", "example.com", false, "example.com"},
		{"", "WWW.Example.com", false, "example.com"},
		{"", "a.shop.test", false, "*.shop.test"},
		{"example.com", "", false, "example.com"},
		{"b.shop.test", "", false, "*.shop.test"},
		{"", "other.test", false, def},
		{"other.test", "", false, def},
		{"", "shop.test", false, def},
		{"", "example.com", true, "example.com"},
		{"", "x.shop.test", true, "*.shop.test"},
		{"", "", true, def},
	} {
		addr := e.Addr
		if tc.implicit {
			addr = implicit
		}
		if got := servedName(t, addr, tc.host, tc.sni, tc.implicit); got != tc.want {
			t.Errorf("HOST %q, SNI %q, implicit %v: certificate %q, want %q", tc.host, tc.sni, tc.implicit, got, tc.want)
		}
	}
	cert, key := certPEM(t, "new.test")
	os.WriteFile(filepath.Join(dir, "new.test.crt"), cert, 0o644)
	os.WriteFile(filepath.Join(dir, "new.test.key"), key, 0o600)
	os.WriteFile(filepath.Join(dir, "example.com.key"), []byte("broken"), 0o600)
	if err := e.Srv.ReloadTLS(); err == nil {
		t.Error("ReloadTLS accepted a broken key")
	}
	if got := servedName(t, e.Addr, "", "new.test", false); got != "new.test" {
		t.Errorf("after ReloadTLS, new.test gets %q", got)
	}
	if got := servedName(t, e.Addr, "", "example.com", false); got != "example.com" {
		t.Errorf("a broken renewal replaced example.com's certificate: got %q", got)
	}
}

// TestCertDirRefused: a folder that cannot be read stops New.
func TestCertDirRefused(t *testing.T) {
	_, err := newTestServer(t, Config{TLSCertDir: filepath.Join(t.TempDir(), "missing")})
	if err == nil {
		t.Fatal("New accepted a missing certificate folder")
	}
}
