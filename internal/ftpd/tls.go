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

// certStore serves the certificate of each TLS handshake: the one of
// TLSCertDir whose names match the name the client asked for (SNI, or
// HOST before AUTH TLS), else the default certificate.
type certStore struct {
	def *certLoader
	dir *certDir // nil without TLSCertDir
}

// newCertStore loads the default certificate (generating a self-signed
// one if none is configured) and the per-domain ones.
func newCertStore(c Config, log *slog.Logger) (*certStore, error) {
	certFile, keyFile := c.TLSCertFile, c.TLSKeyFile
	var def *certLoader
	switch {
	case certFile != "":
		def = &certLoader{certFile: certFile, keyFile: keyFile, log: log}
	case c.DataDir != "":
		certFile, keyFile = filepath.Join(c.DataDir, CertFileName), filepath.Join(c.DataDir, KeyFileName)
		if err := ensureSelfSigned(certFile, keyFile, c.PublicHost, log); err != nil {
			return nil, err
		}
		def = &certLoader{certFile: certFile, keyFile: keyFile, log: log}
	default:
		cert, err := selfSigned(c.PublicHost, time.Now())
		if err != nil {
			return nil, err
		}
		def = &certLoader{cert: &cert}
	}
	if err := def.load(); err != nil {
		return nil, err
	}
	s := &certStore{def: def}
	if c.TLSCertDir != "" {
		s.dir = &certDir{dir: c.TLSCertDir, log: log}
		if err := s.dir.reload(); err != nil {
			return nil, fmt.Errorf("--tls-cert-dir: %w", err)
		}
	}
	return s, nil
}

// tlsConfig is the TLS configuration of the control and data connections
// of every client. It stays the same object: TLS session tickets are
// keyed per configuration, and clients such as FileZilla resume the
// control connection's TLS session on data connections.
func (c *certStore) tlsConfig() *tls.Config {
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
		GetCertificate: c.get,
	}
}

// get implements tls.Config.GetCertificate.
func (s *certStore) get(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if s.dir != nil {
		if cert := s.dir.lookup(hello.ServerName); cert != nil {
			return cert, nil
		}
	}
	return s.def.get(hello)
}

// ReloadTLS re-reads the certificate files now, as on SIGHUP after a
// renewal, instead of at the next check (they are also checked every
// minute). Connections already open keep their TLS session; new ones get
// the new certificates. A certificate that cannot be loaded (a file
// missing, a key that does not match) is logged and the one in service
// stays.
func (s *Server) ReloadTLS() error {
	var errs []error
	if err := s.certs.def.reload(); err != nil {
		s.log.Error("TLS certificate not reloaded; keeping the previous one", "err", err)
		errs = append(errs, err)
	} else if s.certs.def.certFile != "" {
		s.log.Info("TLS certificate reloaded", "cert", s.certs.def.certFile)
	}
	if d := s.certs.dir; d != nil {
		if err := d.reload(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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
