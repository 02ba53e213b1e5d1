package ftpd

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/sessions"
)

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in      string
		want    PortRange
		wantErr string
	}{
		{"", PortRange{}, ""},
		{"21000-21100", PortRange{Start: 21000, End: 21100}, ""},
		{" 21000 - 21100 ", PortRange{Start: 21000, End: 21100}, ""},
		{"30000", PortRange{Start: 30000, End: 30000}, ""},
		{"21100-21000", PortRange{}, "first port must not be greater"},
		{"80-90", PortRange{}, "use ports from 1024 to 65535"},
		{"21000-70000", PortRange{}, "outside 1-65535"},
		{"abc", PortRange{}, `"abc" is not a port number`},
		{"21000-", PortRange{}, `"" is not a port number`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePortRange(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("= %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func newTestServer(t *testing.T, cfg Config) (*Server, error) {
	t.Helper()
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	s, err := New(cfg, panicAuth{}, sessions.NewRegistry(sessions.Limits{}), slog.New(slog.DiscardHandler))
	if err == nil {
		done := make(chan error, 1)
		go func() { done <- s.Serve() }()
		t.Cleanup(func() {
			s.Close()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	return s, err
}

func TestNewRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "missing.pem")
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a certificate"), 0o600)
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	umask := os.FileMode(0o1022)
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"bad passive range", Config{PassivePorts: PortRange{Start: 2000, End: 1000}}, "passive port range 2000-1000"},
		{"IPv6 public host", Config{PublicHost: "2001:db8::1"}, "IPv4"},
		{"cert without key", Config{TLSCertFile: garbage}, "go together"},
		{"missing cert", Config{TLSCertFile: unreadable, TLSKeyFile: unreadable}, "no such file"},
		{"garbage cert", Config{TLSCertFile: garbage, TLSKeyFile: garbage}, "garbage.pem"},
		{"port in use", Config{ListenAddr: busy.Addr().String()}, "already uses this port"},
		{"bad umask", Config{Umask: &umask}, "umask"},
		{"negative timeout", Config{IdleTimeout: -time.Second}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newTestServer(t, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
			}
		})
	}
}

func TestPrivilegedPortMessage(t *testing.T) {
	err := listenError(":21", false, &net.OpError{Op: "listen", Err: os.NewSyscallError("bind", syscall.EACCES)})
	if !strings.Contains(err.Error(), "CAP_NET_BIND_SERVICE") {
		t.Errorf("message %q does not explain the privileged port", err)
	}
	if os.Geteuid() != 0 {
		_, err := newTestServer(t, Config{ListenAddr: "127.0.0.1:21"})
		if err == nil || !strings.Contains(err.Error(), "CAP_NET_BIND_SERVICE") {
			t.Errorf("listening on port 21 as a user: %v", err)
		}
	}
}

// TestSelfSignedCertificate is generated once into the data directory,
// private, and reused at the next start.
func TestSelfSignedCertificate(t *testing.T) {
	dir := t.TempDir()
	s1, err := newTestServer(t, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, KeyFileName)
	fi, err := os.Stat(key)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
	}
	cert1, _ := os.ReadFile(filepath.Join(dir, CertFileName))
	s1.Close()
	s2, err := newTestServer(t, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cert2, _ := os.ReadFile(filepath.Join(dir, CertFileName))
	if !bytes.Equal(cert1, cert2) {
		t.Error("the certificate was generated again instead of reused")
	}
	got := handshake(t, s2, &tls.Config{InsecureSkipVerify: true})
	if got.PeerCertificates[0].PublicKeyAlgorithm.String() != "ECDSA" {
		t.Errorf("certificate key %v, want ECDSA", got.PeerCertificates[0].PublicKeyAlgorithm)
	}
}

// TestTLSVersions refuses TLS 1.1 and weak TLS 1.2 suites.
func TestTLSVersions(t *testing.T) {
	s, err := newTestServer(t, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*tls.Config{
		"TLS 1.1":  {MaxVersion: tls.VersionTLS11},
		"CBC-SHA1": {MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}},
		// No forward secrecy.
		"RSA key exchange": {MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}},
	} {
		c.InsecureSkipVerify = true
		if _, err := tryHandshake(s, c); err == nil {
			t.Errorf("%s: handshake succeeded", name)
		}
	}
	if st := handshake(t, s, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}); st.Version != tls.VersionTLS12 {
		t.Errorf("TLS 1.2 handshake: version %x", st.Version)
	}
}

// tryHandshake sends AUTH TLS and completes the handshake.
func tryHandshake(s *Server, c *tls.Config) (tls.ConnectionState, error) {
	conn, err := net.DialTimeout("tcp", s.Addr().String(), 5*time.Second)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	conn.Read(buf) // 220
	conn.Write([]byte("AUTH TLS\r\n"))
	conn.Read(buf) // 234
	tc := tls.Client(conn, c)
	err = tc.Handshake()
	return tc.ConnectionState(), err
}

func handshake(t *testing.T, s *Server, c *tls.Config) tls.ConnectionState {
	t.Helper()
	st, err := tryHandshake(s, c)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return st
}
