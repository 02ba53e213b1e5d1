package ftpd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

const (
	// selfSignedLife stays within the 825 days some clients accept.
	selfSignedLife = 825 * 24 * time.Hour
	// renewBefore regenerates a self-signed certificate that close to expiry.
	renewBefore = 30 * 24 * time.Hour
	// reloadCheck is how often the certificate files are checked for change.
	reloadCheck = time.Minute
)

// newTLSConfig returns the one TLS configuration used for the control and
// data connections of every client. It must stay the same object: TLS
// session tickets are keyed per configuration, and clients such as
// FileZilla resume the control connection's TLS session on data
// connections.
func newTLSConfig(c Config, log *slog.Logger) (*tls.Config, *certLoader, error) {
	certFile, keyFile := c.TLSCertFile, c.TLSKeyFile
	var loader *certLoader
	switch {
	case certFile != "":
		loader = &certLoader{certFile: certFile, keyFile: keyFile, log: log}
	case c.DataDir != "":
		certFile, keyFile = filepath.Join(c.DataDir, CertFileName), filepath.Join(c.DataDir, KeyFileName)
		if err := ensureSelfSigned(certFile, keyFile, c.PublicHost, log); err != nil {
			return nil, nil, err
		}
		loader = &certLoader{certFile: certFile, keyFile: keyFile, log: log}
	default:
		cert, err := selfSigned(c.PublicHost, time.Now())
		if err != nil {
			return nil, nil, err
		}
		loader = &certLoader{cert: &cert}
	}
	if err := loader.load(); err != nil {
		return nil, nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// TLS 1.2 suites: forward secrecy and AEAD only. TLS 1.3 suites are
		// not configurable and all modern.
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		GetCertificate: loader.get,
	}, loader, nil
}

// ReloadTLS re-reads the certificate and key files now, as on SIGHUP
// after a renewal, instead of at the next check (they are also checked
// every minute). Connections already open keep their TLS session; new
// ones get the new certificate. On an error (a file missing, a key that
// does not match) the certificate in service stays.
func (s *Server) ReloadTLS() error {
	if err := s.certs.reload(); err != nil {
		s.log.Error("TLS certificate not reloaded; keeping the previous one", "err", err)
		return err
	}
	if s.certs.certFile != "" {
		s.log.Info("TLS certificate reloaded", "cert", s.certs.certFile)
	}
	return nil
}

// reload loads the files now, keeping the current certificate on error.
func (l *certLoader) reload() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.checkedAt = time.Now()
	old, oldMod := l.cert, l.modTime
	if err := l.load(); err != nil {
		l.cert, l.modTime = old, oldMod
		return err
	}
	return nil
}

// certLoader serves a certificate, re-reading its files when they change.
type certLoader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu        sync.Mutex
	cert      *tls.Certificate
	modTime   time.Time
	checkedAt time.Time
}

func (l *certLoader) load() error {
	if l.certFile == "" {
		return nil
	}
	for _, f := range []string{l.certFile, l.keyFile} {
		if _, err := os.ReadFile(f); err != nil {
			return fmt.Errorf("reading TLS certificate or key: %w", err)
		}
	}
	cert, err := tls.LoadX509KeyPair(l.certFile, l.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s and key %s: %w", l.certFile, l.keyFile, err)
	}
	l.cert, l.modTime = &cert, l.filesModTime()
	return nil
}

func (l *certLoader) filesModTime() time.Time {
	var latest time.Time
	for _, f := range []string{l.certFile, l.keyFile} {
		if fi, err := os.Stat(f); err == nil && fi.ModTime().After(latest) {
			latest = fi.ModTime()
		}
	}
	return latest
}

// get implements tls.Config.GetCertificate. A broken renewal keeps the
// previous certificate in service and is logged.
func (l *certLoader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.certFile != "" && time.Since(l.checkedAt) > reloadCheck {
		l.checkedAt = time.Now()
		if mt := l.filesModTime(); mt.After(l.modTime) {
			old := l.cert
			if err := l.load(); err != nil {
				l.cert = old
				l.modTime = mt // do not retry until the files change again
				l.log.Error("TLS certificate changed but cannot be loaded; keeping the previous one", "err", err)
			} else {
				l.log.Info("TLS certificate reloaded", "cert", l.certFile)
			}
		}
	}
	return l.cert, nil
}

// ensureSelfSigned makes sure certFile and keyFile hold a usable
// self-signed certificate, generating one if they are missing or about to
// expire. A file that exists but cannot be read is an error, never
// silently replaced.
func ensureSelfSigned(certFile, keyFile, publicHost string, log *slog.Logger) error {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	switch {
	case err == nil && time.Until(pair.Leaf.NotAfter) > renewBefore:
		return nil
	case err == nil:
		log.Info("self-signed TLS certificate expires soon, generating a new one", "cert", certFile, "expires", pair.Leaf.NotAfter)
	case errors.Is(err, fs.ErrNotExist):
		log.Info("generating a self-signed TLS certificate", "cert", certFile)
	default:
		return fmt.Errorf("TLS certificate %s and key %s: %w (delete both to generate new ones)", certFile, keyFile, err)
	}
	cert, err := selfSigned(publicHost, time.Now())
	if err != nil {
		return err
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return fmt.Errorf("encoding TLS key: %w", err)
	}
	if err := writeFileAtomic(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})); err != nil {
		return err
	}
	return writeFileAtomic(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}))
}

// selfSigned returns a new ECDSA P-256 certificate for this host's name,
// localhost and publicHost.
func selfSigned(publicHost string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generating TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generating certificate serial: %w", err)
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host, Organization: []string{"panelftp self-signed"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(selfSignedLife),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{host, "localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(publicHost); ip != nil {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("creating self-signed certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// writeFileAtomic writes data, readable by the owner only, to a temporary
// file in name's directory and renames it over name, so a crash never
// leaves half a key behind.
func writeFileAtomic(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(name), err)
	}
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name)+"-*") // mode 0600
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}
