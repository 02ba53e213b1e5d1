package harness

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"strconv"
	"time"
)

// Panel runs panelftp's command line on one data directory, to create
// what a measurement serves as an administrator would.
type Panel struct {
	Bin  string // the panelftp binary
	Data string // its --data directory
}

// CLI runs one panelftp command on the data directory, with stdin as its
// standard input.
func (p Panel) CLI(ctx context.Context, stdin string, args ...string) error {
	_, err := Run(ctx, "", nil, stdin, append(append([]string{p.Bin}, args...), "--data", p.Data)...)
	return err
}

// Init creates the data directory's database and TLS certificate.
func (p Panel) Init(ctx context.Context) error { return p.CLI(ctx, "", "init") }

// AddAccount creates a hosting account with its home; uid and gid below
// zero leave the account without ids of its own (the server's).
func (p Panel) AddAccount(ctx context.Context, name, home string, uid, gid int) error {
	args := []string{"account", "add", name, "--home", home}
	if uid >= 0 {
		args = append(args, "--uid", strconv.Itoa(uid), "--gid", strconv.Itoa(gid))
	}
	return p.CLI(ctx, "", args...)
}

// AddFTPUser creates an FTP sub-user of account locked into folder (a
// path inside the account's home). The password goes by standard input,
// never on a command line.
func (p Panel) AddFTPUser(ctx context.Context, name, password, folder, account string) error {
	return p.CLI(ctx, password+"\n", "ftp", "add", name, "-", folder, account)
}

// AddAdmin creates a panel administrator.
func (p Panel) AddAdmin(ctx context.Context, name, password string) error {
	return p.CLI(ctx, password+"\n", "admin", "add", name, "--password-stdin")
}

// NewPassword makes a password that meets every server's rules
// (panelftp's: upper and lower case, a digit and a symbol, 8 to 64
// characters).
func NewPassword() string { return "Qq7-" + rand.Text() }

// WriteRandomFile writes size bytes of incompressible data for real (no
// holes, which would read faster than data).
func WriteRandomFile(path string, size int64) error {
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

// WriteCert makes one self-signed ECDSA P-256 certificate for 127.0.0.1
// and its PKCS #8 key, for servers that need one given.
func WriteCert(certPath, keyPath string) error {
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
