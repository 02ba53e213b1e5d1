package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/panelftp/panelftp/bench/harness"
)

// unpacked is a peer's Debian packages, downloaded into the cache and
// extracted there with dpkg-deb, with the libraries they need that the
// system lacks.
type unpacked struct {
	root    string   // what dpkg-deb -x extracted into
	version string   // version of the main package
	libDirs []string // for LD_LIBRARY_PATH
}

func (u *unpacked) path(p string) string { return filepath.Join(u.root, p) }

func (u *unpacked) env() []string {
	return []string{"LD_LIBRARY_PATH=" + strings.Join(u.libDirs, ":")}
}

// unpack fetches the packages (the first one is the peer itself) into
// cache and extracts them into cache/root/<name>; then it checks bins
// with ldd and adds the missing libraries' packages.
func unpack(ctx context.Context, cache, name string, pkgs, bins []string) (*unpacked, error) {
	debs := filepath.Join(cache, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return nil, err
	}
	u := &unpacked{root: filepath.Join(cache, "root", name)}
	if err := os.RemoveAll(u.root); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(u.root, 0o755); err != nil {
		return nil, err
	}
	for i, p := range pkgs {
		v, err := extract(ctx, debs, p, u.root)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			u.version = v
		}
	}
	u.findLibDirs()
	missing, err := u.missingLibs(ctx, bins)
	if err != nil || len(missing) == 0 {
		return u, err
	}
	// Add the library packages the peer depends on that are not installed,
	// and theirs, a few levels deep.
	seen := map[string]bool{}
	queue := pkgs
	for depth := 0; depth < 4 && len(queue) > 0; depth++ {
		var next []string
		for _, p := range queue {
			for _, d := range libDepends(ctx, p) {
				if seen[d] || installed(ctx, d) {
					continue
				}
				seen[d] = true
				if _, err := extract(ctx, debs, d, u.root); err != nil {
					return nil, err
				}
				next = append(next, d)
			}
		}
		queue = next
	}
	u.findLibDirs()
	missing, err = u.missingLibs(ctx, bins)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("libraries still missing after adding their packages: %s", strings.Join(missing, ", "))
	}
	return u, nil
}

// extract downloads pkg into debs unless a .deb of it is there already,
// unpacks it into root and returns its version.
func extract(ctx context.Context, debs, pkg, root string) (string, error) {
	deb, err := cachedDeb(debs, pkg)
	if err != nil {
		return "", err
	}
	if deb == "" {
		if _, err := harness.Run(ctx, debs, nil, "", "apt-get", "download", "-q", pkg); err != nil {
			return "", fmt.Errorf("downloading %s (run apt-get update first?): %w", pkg, err)
		}
		if deb, err = cachedDeb(debs, pkg); err != nil || deb == "" {
			return "", fmt.Errorf("apt-get download %s left no .deb in %s", pkg, debs)
		}
	}
	if _, err := harness.Run(ctx, "", nil, "", "dpkg-deb", "-x", deb, root); err != nil {
		return "", err
	}
	v, err := harness.Run(ctx, "", nil, "", "dpkg-deb", "-f", deb, "Version")
	return strings.TrimSpace(v), err
}

// cachedDeb finds pkg_VERSION_ARCH.deb in dir ("" when absent).
func cachedDeb(dir, pkg string) (string, error) {
	m, err := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if err != nil || len(m) == 0 {
		return "", err
	}
	sort.Strings(m)
	return m[len(m)-1], nil
}

// libDepends lists the lib* packages pkg depends on.
func libDepends(ctx context.Context, pkg string) []string {
	out, err := harness.Run(ctx, "", nil, "", "apt-cache", "depends", "--important", pkg)
	if err != nil {
		return nil
	}
	var libs []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		_, dep, ok := strings.Cut(line, "Depends: ")
		if ok && strings.HasPrefix(dep, "lib") {
			libs = append(libs, dep)
		}
	}
	return libs
}

func installed(ctx context.Context, pkg string) bool {
	out, err := harness.Run(ctx, "", nil, "", "dpkg-query", "-W", "-f=${db:Status-Status}", pkg)
	return err == nil && strings.TrimSpace(out) == "installed"
}

// findLibDirs lists the library folders of the unpacked tree.
func (u *unpacked) findLibDirs() {
	u.libDirs = nil
	for _, pat := range []string{"lib/*-linux-gnu", "usr/lib/*-linux-gnu", "lib", "usr/lib"} {
		m, _ := filepath.Glob(filepath.Join(u.root, pat))
		u.libDirs = append(u.libDirs, m...)
	}
}

// missingLibs runs ldd on each binary with the unpacked libraries in
// LD_LIBRARY_PATH and lists the libraries it cannot find.
func (u *unpacked) missingLibs(ctx context.Context, bins []string) ([]string, error) {
	var missing []string
	for _, b := range bins {
		out, err := harness.Run(ctx, "", u.env(), "", "ldd", u.path(b))
		if err != nil && !strings.Contains(out, "not found") {
			return nil, err
		}
		for _, line := range strings.Split(out, "\n") {
			if lib, _, ok := strings.Cut(strings.TrimSpace(line), " => not found"); ok && !contains(missing, lib) {
				missing = append(missing, lib)
			}
		}
	}
	return missing, nil
}

// sysUser is the local system user the peers serve: vsftpd authenticates
// it through PAM, pure-ftpd and proftpd take its uid, gid and password
// hash into their own user files.
type sysUser struct {
	name     string
	uid, gid int
	hash     string // SHA-512 crypt, from /etc/shadow
}

const sysUserName = "benchftp"

// ensureSysUser creates the local user when missing and sets its password
// (SHA-512 crypt). The peers are root-started daemons, so this needs root.
func ensureSysUser(ctx context.Context, pass string) (*sysUser, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the peers need root: they are root-started daemons that chroot the test user")
	}
	if _, err := user.Lookup(sysUserName); err != nil {
		if _, err := harness.Run(ctx, "", nil, "", "useradd", "-m", "-s", "/bin/sh", sysUserName); err != nil {
			return nil, err
		}
	}
	if _, err := harness.Run(ctx, "", nil, sysUserName+":"+pass+"\n", "chpasswd", "-c", "SHA512"); err != nil {
		return nil, err
	}
	u, err := user.Lookup(sysUserName)
	if err != nil {
		return nil, err
	}
	s := &sysUser{name: sysUserName}
	s.uid, _ = strconv.Atoi(u.Uid)
	s.gid, _ = strconv.Atoi(u.Gid)
	shadow, err := os.ReadFile("/etc/shadow")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(shadow), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 1 && f[0] == sysUserName {
			s.hash = f[1]
		}
	}
	if !strings.HasPrefix(s.hash, "$6$") {
		return nil, fmt.Errorf("no SHA-512 crypt hash for %s in /etc/shadow", sysUserName)
	}
	return s, nil
}
