package ftpd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// certDir is the per-domain certificates of Config.TLSCertDir: each
// NAME.crt with its NAME.key, or NAME.pem holding both. A certificate
// serves the DNS names it holds (its subject alternative names, or its
// common name without them), wildcards included; the file name is only
// a label for the logs.
type certDir struct {
	dir string
	log *slog.Logger

	mu        sync.Mutex
	byName    map[string]*tls.Certificate // lower-case names, "*.example.com" for a wildcard
	files     map[string]*tls.Certificate // by file label: kept when a renewal is broken
	stamp     string                      // the files' names and times, to notice a change
	checkedAt time.Time
}

// certFiles are the files of one certificate; both the same for NAME.pem.
type certFiles struct{ cert, key string }

// scan lists the certificate files and a stamp of their names and
// modification times.
func (d *certDir) scan() (map[string]certFiles, string, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, "", fmt.Errorf("reading the certificate folder: %w", err)
	}
	found := map[string]certFiles{}
	var stamp strings.Builder
	for _, e := range entries {
		name := e.Name()
		label, ext := strings.TrimSuffix(name, filepath.Ext(name)), filepath.Ext(name)
		path := filepath.Join(d.dir, name)
		switch ext {
		case ".crt":
			found[label] = certFiles{cert: path, key: filepath.Join(d.dir, label+".key")}
		case ".pem":
			if _, ok := found[label]; !ok {
				found[label] = certFiles{cert: path, key: path}
			}
		case ".key":
		default:
			continue
		}
		if fi, err := e.Info(); err == nil {
			fmt.Fprintf(&stamp, "%s %d;", name, fi.ModTime().UnixNano())
		}
	}
	return found, stamp.String(), nil
}

// reload loads every certificate of the folder. One that cannot be
// loaded keeps the certificate of the same file already in service, and
// is reported in the error.
func (d *certDir) reload() error {
	found, stamp, err := d.scan()
	if err != nil {
		return err
	}
	d.mu.Lock()
	old := d.files
	d.mu.Unlock()
	files := map[string]*tls.Certificate{}
	var errs []error
	for label, f := range found {
		cert, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			errs = append(errs, fmt.Errorf("certificate %s: %w", label, err))
			if prev := old[label]; prev != nil {
				files[label] = prev
			}
			continue
		}
		files[label] = &cert
	}
	byName := map[string]*tls.Certificate{}
	labels := make([]string, 0, len(files))
	for label := range files {
		labels = append(labels, label)
	}
	slices.Sort(labels) // the first file naming a domain serves it
	for _, label := range labels {
		for _, name := range certNames(files[label]) {
			if _, taken := byName[name]; !taken {
				byName[name] = files[label]
			}
		}
	}
	d.mu.Lock()
	d.byName, d.files, d.stamp, d.checkedAt = byName, files, stamp, time.Now()
	d.mu.Unlock()
	err = errors.Join(errs...)
	if err != nil {
		d.log.Error("TLS certificates of the folder not all loaded; keeping the previous ones", "dir", d.dir, "err", err)
	}
	d.log.Info("TLS certificates loaded", "dir", d.dir, "certificates", len(files), "names", len(byName))
	return err
}

// certNames are the lower-case DNS names a certificate serves.
func certNames(c *tls.Certificate) []string {
	if c.Leaf == nil {
		return nil
	}
	names := c.Leaf.DNSNames
	if len(names) == 0 && c.Leaf.Subject.CommonName != "" {
		names = []string{c.Leaf.Subject.CommonName}
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, strings.ToLower(strings.TrimSuffix(n, ".")))
	}
	return out
}

// lookup returns the certificate for name, or nil. Once a minute it
// first checks whether the files changed, and reloads them if so.
func (d *certDir) lookup(name string) *tls.Certificate {
	d.mu.Lock()
	due := time.Since(d.checkedAt) > reloadCheck
	if due {
		d.checkedAt = time.Now()
	}
	stamp := d.stamp
	d.mu.Unlock()
	if due {
		if _, now, err := d.scan(); err == nil && now != stamp {
			_ = d.reload() // logged
		}
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if name == "" {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.byName[name]; c != nil {
		return c
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		return d.byName["*"+name[i:]]
	}
	return nil
}
