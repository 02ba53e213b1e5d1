package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
)

// ensureFirstAdmin creates the administrator "admin" with a generated
// password the first time the server starts, and prints it once.
func ensureFirstAdmin(ctx context.Context, svc *service.Service, out io.Writer) error {
	admins, err := svc.ListAdmins(ctx)
	if err != nil || len(admins) > 0 {
		return err
	}
	password := domain.GeneratePassword()
	if err := svc.AddAdmin(ctx, "admin", password); err != nil {
		if errors.Is(err, domain.ErrConflict) { // another node was first
			return nil
		}
		return fmt.Errorf("creating the first administrator: %w", err)
	}
	fmt.Fprintf(out, "First start: web panel administrator created.\n  admin name: admin\n  password:   %s\n(shown once; change it with 'panelftp admin password admin -')\n\n", password)
	return nil
}

// nobody is the uid and gid of the demo account when run as root: the
// kernel's overflow id, "nobody" and "nogroup" on Debian.
const nobody = 65534

// demo holds the credentials createDemo made, printed once the listeners
// are bound.
type demo struct {
	account, accountPassword string
	ftpUser, ftpPassword     string
	// certFile is the self-signed certificate lftp is told to trust; ""
	// when the server was given its own.
	certFile string
}

// createDemo makes (or resets) the account "demo" with home
// <data>/demo-home and the FTP sub-user web.demo locked into /site, with
// fresh random passwords.
func createDemo(ctx context.Context, svc *service.Service, c config.Serve) (demo, error) {
	d := demo{account: "demo", accountPassword: domain.GeneratePassword(), ftpUser: "web.demo", ftpPassword: domain.GeneratePassword()}
	if c.TLSCert == "" {
		d.certFile = filepath.Join(c.DataDir, "tls-cert.pem")
	}
	home, err := filepath.Abs(filepath.Join(c.DataDir, "demo-home"))
	if err != nil {
		return d, err
	}
	// As root, the demo account is "nobody": its FTP user must not act as
	// root, and nobody owns nothing else.
	uid, gid := domain.NoID, domain.NoID
	if os.Geteuid() == 0 {
		uid, gid = nobody, nobody
	}
	_, err = svc.AddAccount(ctx, domain.NewAccount{Name: d.account, Home: home, UID: uid, GID: gid, PanelPassword: d.accountPassword})
	if errors.Is(err, domain.ErrConflict) {
		err = svc.SetAccountPassword(ctx, d.account, d.accountPassword)
	}
	if err != nil {
		return d, fmt.Errorf("creating the demo account: %w", err)
	}
	_, err = svc.AddFTPUser(ctx, domain.NewFTPUser{Account: d.account, Username: d.ftpUser, Password: d.ftpPassword, Path: "/site"})
	if errors.Is(err, domain.ErrConflict) {
		err = svc.ChangeFTPPassword(ctx, d.account, d.ftpUser, d.ftpPassword)
	}
	if err != nil {
		return d, fmt.Errorf("creating the demo FTP user: %w", err)
	}
	welcome := filepath.Join(home, "site", "welcome.txt")
	if _, err := os.Stat(welcome); errors.Is(err, fs.ErrNotExist) {
		os.WriteFile(welcome, []byte("Hello from panelftp. Upload your website here.\n"), 0o644)
	}
	return d, nil
}

func (d demo) print(out io.Writer, ftpPort, panelPort int) {
	fmt.Fprintf(out, "Demo ready.\n  FTP:   host localhost  port %d  user %s  password %s\n", ftpPort, d.ftpUser, d.ftpPassword)
	fmt.Fprintf(out, "         e.g. curl -u '%s:%s' ftp://localhost:%d/\n", d.ftpUser, d.ftpPassword, ftpPort)
	if d.certFile != "" {
		fmt.Fprintf(out, "         or   lftp -u '%s' -p %d -e 'set ssl:ca-file %s' localhost   (trusting this self-signed certificate)\n",
			d.ftpUser, ftpPort, d.certFile)
	}
	if panelPort > 0 {
		fmt.Fprintf(out, "  Panel: http://localhost:%d/  account %s  password %s\n", panelPort, d.account, d.accountPassword)
	}
	fmt.Fprintln(out)
}

// panelSecret returns the key that signs panel cookies, generated once into
// the data directory. Nodes behind one load balancer need the same file.
func panelSecret(dataDir string) ([]byte, error) {
	p := filepath.Join(dataDir, "panel-secret")
	if b, err := os.ReadFile(p); err == nil && len(b) >= 32 {
		return b, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading panel secret %s: %w", p, err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process won the race
		return panelSecret(dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("creating panel secret %s: %w", p, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	return b, f.Close()
}
