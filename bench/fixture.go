package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// sources are the files every server serves, made once per run.
type sources struct {
	big    string // -size bytes
	client string // -client-size bytes
	small  []byte // -file-size bytes, uploaded by scenario 3
	cert   string // PEM certificate for every server's TLS
	key    string // its PEM private key (PKCS #8)
}

// makeSources writes the shared files into dir.
func makeSources(dir string, o *options) (*sources, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &sources{
		big:    filepath.Join(dir, bigFile),
		client: filepath.Join(dir, clientFile),
		cert:   filepath.Join(dir, "cert.pem"),
		key:    filepath.Join(dir, "key.pem"),
		small:  make([]byte, o.fileSize),
	}
	rand.Read(s.small)
	if err := writeFile(s.big, int64(o.size)); err != nil {
		return nil, err
	}
	if err := writeFile(s.client, int64(o.clientSize)); err != nil {
		return nil, err
	}
	if err := writeCert(s.cert, s.key); err != nil {
		return nil, err
	}
	// Write the new files back now, so the disk is idle while measuring.
	syscall.Sync()
	return s, nil
}

// writeFile writes size bytes of incompressible data for real (no holes,
// which would read faster than data).
func writeFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	block := make([]byte, 1<<20)
	rand.Read(block)
	for left := size; left > 0; {
		n := min(left, int64(len(block)))
		if _, err := f.Write(block[:n]); err != nil {
			f.Close()
			return err
		}
		left -= n
	}
	return f.Close()
}

// writeCert makes one self-signed ECDSA P-256 certificate for 127.0.0.1,
// used by every server so their TLS costs compare.
func writeCert(certPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "127.0.0.1", Organization: []string{"panelftp bench"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600)
}

// owner is the uid and gid the served files and upload folders belong to;
// -1 keeps the harness's own.
type owner struct{ uid, gid int }

// prepareHome lays out one server's home: the big and client files (hard
// links, so every server reads the same cached pages), a folder of
// -entries files to list, and empty upload folders, all owned by ow.
func prepareHome(home string, o *options, src *sources, ow owner) error {
	if err := os.RemoveAll(home); err != nil {
		return err
	}
	for _, d := range []string{home, filepath.Join(home, listDir), filepath.Join(home, smallDir), filepath.Join(home, uploadDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.Lchown(d, ow.uid, ow.gid); err != nil {
			return err
		}
	}
	for _, f := range []string{src.big, src.client} {
		if err := os.Link(f, filepath.Join(home, filepath.Base(f))); err != nil {
			return err
		}
	}
	for i := 0; i < o.entries; i++ {
		p := filepath.Join(home, listDir, fmt.Sprintf("page-%05d.html", i))
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		// Sizes vary so listings carry varied numbers; the files hold holes.
		err = f.Truncate(int64(i*7919) % 100000)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	syscall.Sync()
	return nil
}

// newPassword makes a password that fits every server's rules (panelftp
// asks for upper and lower case, a digit and a symbol).
func newPassword() string {
	b := make([]byte, 9)
	rand.Read(b)
	return "Bench-" + hex.EncodeToString(b) + "-7Q"
}
