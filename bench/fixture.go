package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/panelftp/panelftp/bench/harness"
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
	if err := harness.WriteRandomFile(s.big, int64(o.size)); err != nil {
		return nil, err
	}
	if err := harness.WriteRandomFile(s.client, int64(o.clientSize)); err != nil {
		return nil, err
	}
	if err := harness.WriteCert(s.cert, s.key); err != nil {
		return nil, err
	}
	// Write the new files back now, so the disk is idle while measuring.
	syscall.Sync()
	return s, nil
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
