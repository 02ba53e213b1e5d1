package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/panelftp/panelftp/bench/harness"
)

// peer is a Debian-packaged FTP server run from its unpacked package.
type peer struct {
	id   string   // vsftpd, pure-ftpd, proftpd
	pkgs []string // Debian packages; the first is the server itself
	bin  string   // the daemon inside the package
	// configure writes the configuration into dir and returns the command
	// line, extra log files to show on failure, and notes for the report.
	configure func(p *peerRun) (argv, logs []string, notes string, err error)
}

// peerRun is one start of a peer.
type peerRun struct {
	*env
	pkg      *unpacked
	dir      string // configuration, logs, pid files
	home     string // the test user's home (its chroot)
	port     int
	pasvLo   int
	pasvHi   int
	listenAt string // 127.0.0.1:port
}

var peers = map[string]*peer{
	"vsftpd":    {id: "vsftpd", pkgs: []string{"vsftpd"}, bin: "usr/sbin/vsftpd", configure: vsftpdConfig},
	"pure-ftpd": {id: "pure-ftpd", pkgs: []string{"pure-ftpd"}, bin: "usr/sbin/pure-ftpd", configure: pureConfig},
	"proftpd":   {id: "proftpd", pkgs: []string{"proftpd-core", "proftpd-mod-crypto"}, bin: "usr/sbin/proftpd", configure: proftpdConfig},
}

func (p *peer) name() string { return p.id }

func (p *peer) start(ctx context.Context, e *env) (*instance, error) {
	if e.sys == nil {
		return nil, fmt.Errorf("needs the local user %s: %s", sysUserName, "run as root")
	}
	fmt.Fprintf(e.log, "%s: fetching %s into %s\n", p.id, strings.Join(p.pkgs, ", "), e.o.cache)
	pkg, err := unpack(ctx, e.o.cache, p.id, p.pkgs, []string{p.bin})
	if err != nil {
		return nil, err
	}
	r := &peerRun{env: e, pkg: pkg, dir: filepath.Join(e.work, p.id)}
	r.home = filepath.Join(r.dir, "home")
	if err := os.RemoveAll(r.dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, err
	}
	if err := prepareHome(r.home, e.o, e.src, e.owner()); err != nil {
		return nil, err
	}
	if r.port, err = harness.FreePort(); err != nil {
		return nil, err
	}
	r.listenAt = net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port))
	r.pasvLo, r.pasvHi = e.nextPassive()
	argv, logs, notes, err := p.configure(r)
	if err != nil {
		return nil, err
	}
	proc, err := harness.Start(argv, pkg.env(), filepath.Join(r.dir, "output.log"))
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, proc, r.listenAt, logs...); err != nil {
		return nil, err
	}
	return &instance{name: p.id, version: pkg.version, notes: notes, addr: r.listenAt,
		user: e.sys.name, pass: e.pass, proc: proc}, nil
}

func writeConf(path string, lines ...string) error {
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

// vsftpdConfig runs vsftpd standalone for the local user, chrooted into
// its home (local_root) by chroot_local_user. PAM authenticates the user
// with a service name that has no file, so PAM's "other" (pam_unix) applies.
func vsftpdConfig(r *peerRun) ([]string, []string, string, error) {
	empty := filepath.Join(r.dir, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		return nil, nil, "", err
	}
	conf, logFile := filepath.Join(r.dir, "vsftpd.conf"), filepath.Join(r.dir, "vsftpd.log")
	err := writeConf(conf,
		"listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1", "listen_port="+strconv.Itoa(r.port),
		"background=NO", "anonymous_enable=NO", "local_enable=YES", "write_enable=YES", "local_umask=022",
		"chroot_local_user=YES", "allow_writeable_chroot=YES", "local_root="+r.home,
		"pam_service_name=panelftp-bench", "userlist_enable=NO", "tcp_wrappers=NO", "session_support=NO",
		"seccomp_sandbox=NO", "isolate=NO", "isolate_network=NO", "secure_chroot_dir="+empty,
		"pasv_enable=YES", fmt.Sprintf("pasv_min_port=%d", r.pasvLo), fmt.Sprintf("pasv_max_port=%d", r.pasvHi),
		"max_clients=0", "max_per_ip=0", "idle_session_timeout=900", "data_connection_timeout=300",
		"xferlog_enable=NO", "vsftpd_log_file="+logFile, "use_localtime=NO",
		"ssl_enable=YES", "rsa_cert_file="+r.src.cert, "rsa_private_key_file="+r.src.key,
		"allow_anon_ssl=NO", "force_local_data_ssl=NO", "force_local_logins_ssl=NO",
		"require_ssl_reuse=NO", "ssl_ciphers=HIGH",
	)
	notes := "standalone, local user via PAM, chroot_local_user, no limits, isolate=NO, isolate_network=NO, " +
		"seccomp_sandbox=NO, require_ssl_reuse=NO, no transfer log; no MLSD, so scenario 4 uses LIST"
	return []string{r.pkg.path("usr/sbin/vsftpd"), conf}, []string{logFile}, notes, err
}

// pureConfig runs pure-ftpd with its own user database (puredb) holding
// the local user's uid, gid and SHA-512 crypt hash; "/./" in the home
// chroots the user.
func pureConfig(r *peerRun) ([]string, []string, string, error) {
	passwd, pdb := filepath.Join(r.dir, "pureftpd.passwd"), filepath.Join(r.dir, "pureftpd.pdb")
	// account:hash:uid:gid:gecos:home/./ then the unused limit fields
	line := fmt.Sprintf("%s:%s:%d:%d::%s/./::::::::::::", r.sys.name, r.sys.hash, r.sys.uid, r.sys.gid, r.home)
	if err := writeConf(passwd, line); err != nil {
		return nil, nil, "", err
	}
	if _, err := harness.Run(context.Background(), r.dir, r.pkg.env(), "", r.pkg.path("usr/bin/pure-pw"), "mkdb", pdb, "-f", passwd); err != nil {
		return nil, nil, "", err
	}
	argv := []string{r.pkg.path("usr/sbin/pure-ftpd"),
		"-S", fmt.Sprintf("127.0.0.1,%d", r.port), "-p", fmt.Sprintf("%d:%d", r.pasvLo, r.pasvHi),
		"-l", "puredb:" + pdb, "-E", "-A", "-H", "-4",
		"-c", maxClientsArg, "-C", maxClientsArg, "-L", "100000:8", "-I", "15",
		"-Y", "1", "-2", r.src.cert + "," + r.src.key, "-f", "none",
	}
	notes := "puredb user file, -A (chroot everyone), -H (no DNS), -c/-C " + maxClientsArg + ", -L 100000:8, -Y 1 (TLS optional)"
	return argv, nil, notes, nil
}

// proftpdConfig runs proftpd standalone with an AuthUserFile, DefaultRoot ~
// and mod_tls from proftpd-mod-crypto.
func proftpdConfig(r *peerRun) ([]string, []string, string, error) {
	users, groups := filepath.Join(r.dir, "ftpd.passwd"), filepath.Join(r.dir, "ftpd.group")
	if err := writeConf(users, fmt.Sprintf("%s:%s:%d:%d::%s:/bin/sh", r.sys.name, r.sys.hash, r.sys.uid, r.sys.gid, r.home)); err != nil {
		return nil, nil, "", err
	}
	if err := writeConf(groups, fmt.Sprintf("%s:x:%d:", r.sys.name, r.sys.gid)); err != nil {
		return nil, nil, "", err
	}
	conf, sysLog, tlsLog := filepath.Join(r.dir, "proftpd.conf"), filepath.Join(r.dir, "proftpd.log"), filepath.Join(r.dir, "tls.log")
	err := writeConf(conf,
		`ServerName "panelftp bench"`, "ServerType standalone", "DefaultServer on",
		"Port "+strconv.Itoa(r.port), "DefaultAddress 127.0.0.1", "SocketBindTight on", "UseIPv6 off",
		"User nobody", "Group nogroup", "Umask 022", "MaxInstances "+maxClientsArg, "AllowOverwrite on",
		fmt.Sprintf("PassivePorts %d %d", r.pasvLo, r.pasvHi), "UseReverseDNS off", "TimeoutIdle 900",
		"PidFile "+filepath.Join(r.dir, "proftpd.pid"), "ScoreboardFile "+filepath.Join(r.dir, "proftpd.scoreboard"),
		"DelayTable "+filepath.Join(r.dir, "proftpd.delay"),
		"WtmpLog off", "TransferLog none", "SystemLog "+sysLog,
		"DefaultRoot ~", "RequireValidShell off",
		"AuthOrder mod_auth_file.c", "AuthUserFile "+users, "AuthGroupFile "+groups,
		"ModulePath "+r.pkg.path("usr/lib/proftpd"),
		"<IfModule !mod_tls.c>", "LoadModule mod_tls.c", "</IfModule>",
		"<IfModule mod_delay.c>", "DelayEngine off", "</IfModule>",
		"<IfModule mod_ident.c>", "IdentLookups off", "</IfModule>",
		"<IfModule mod_tls.c>", "TLSEngine on", "TLSLog "+tlsLog, "TLSProtocol TLSv1.2 TLSv1.3",
		"TLSECCertificateFile "+r.src.cert, "TLSECCertificateKeyFile "+r.src.key,
		"TLSVerifyClient off", "TLSRequired off", "TLSOptions NoSessionReuseRequired", "</IfModule>",
	)
	argv := []string{r.pkg.path("usr/sbin/proftpd"), "--nodaemon", "--config", conf}
	notes := "standalone, AuthUserFile (mod_auth_file), DefaultRoot ~, MaxInstances " + maxClientsArg + ", DelayEngine off, " +
		"UseReverseDNS off, no transfer log, mod_tls with NoSessionReuseRequired"
	return argv, []string{sysLog, tlsLog}, notes, err
}
