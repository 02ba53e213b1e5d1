package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needTool returns the path of an external client, skipping the test when
// it is missing unless PANELFTP_TEST_INTEROP=1 demands it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("PANELFTP_TEST_INTEROP") == "1" {
			t.Fatalf("PANELFTP_TEST_INTEROP=1 but %s is not installed", name)
		}
		t.Skipf("%s not installed (apt-get install %s, or set PANELFTP_TEST_INTEROP=1 to require it)", name, name)
	}
	return p
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInteropCurl(t *testing.T) {
	t.Parallel()
	curl := needTool(t, "curl")
	s := startServer(t)
	payload := randomBytes(t, 3<<20+17)
	src := filepath.Join(t.TempDir(), "up.bin")
	writeFile(t, src, payload)
	user := "web.bob:" + goodPassword

	for _, mode := range []struct {
		name string
		tls  []string
	}{
		{"plain", nil},
		{"ssl-reqd", []string{"--ssl-reqd", "-k"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			remote := fmt.Sprintf("ftp://%s/curl-%s.bin", s.addr(), mode.name)
			runTool(t, curl, append(mode.tls, "-sS", "--fail", "-u", user, "-T", src, remote)...)
			got, err := os.ReadFile(filepath.Join(s.site(), "curl-"+mode.name+".bin"))
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("upload over curl (%s): %d bytes on disk, err %v", mode.name, len(got), err)
			}
			dst := filepath.Join(t.TempDir(), "down.bin")
			runTool(t, curl, append(mode.tls, "-sS", "--fail", "-u", user, "-o", dst, remote)...)
			if got, _ := os.ReadFile(dst); !bytes.Equal(got, payload) {
				t.Fatalf("download over curl (%s) differs: %d bytes", mode.name, len(got))
			}
		})
	}
}

func TestInteropLftpMirror(t *testing.T) {
	t.Parallel()
	lftp := needTool(t, "lftp")
	s := startServer(t)
	local := t.TempDir()
	for i := 0; i < 200; i++ {
		dir := filepath.Join(local, fmt.Sprintf("d%02d", i%10))
		writeFile(t, filepath.Join(dir, fmt.Sprintf("f%03d.txt", i)), randomBytes(t, 100+i*37))
	}
	back := t.TempDir()
	script := fmt.Sprintf(`set ssl:verify-certificate no; set ftp:ssl-force true; set ftp:ssl-protect-data true;
open -u web.bob,'%s' -p %d 127.0.0.1;
mirror -R --parallel=4 %s /tree; mirror --parallel=4 /tree %s; quit`, goodPassword, s.ftpPort, local, back)
	runTool(t, lftp, "-c", script)
	if a, b := treeDigest(t, local), treeDigest(t, back); a != b {
		t.Fatalf("lftp mirror round trip differs:\nsent %s\ngot  %s", a, b)
	}
	if a, b := treeDigest(t, local), treeDigest(t, filepath.Join(s.site(), "tree")); a != b {
		t.Fatalf("files on the server differ from the ones sent")
	}
}

// treeDigest hashes every relative path and content under dir.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		fmt.Fprintf(h, "%s %x\n", rel, sha256.Sum256(b))
		n++
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d files %x", n, h.Sum(nil))
}

const ftplibScript = `
import ftplib, io, ssl, sys, hashlib
host, port, user, pw, use_tls = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] == "tls"
if use_tls:
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    ftp = ftplib.FTP_TLS(context=ctx)
else:
    ftp = ftplib.FTP()
ftp.connect(host, port, timeout=20)
ftp.login(user, pw)
if use_tls:
    ftp.prot_p()
ftp.mkd("py")
ftp.cwd("py")
data = bytes(range(256)) * 4096
ftp.storbinary("STOR data.bin", io.BytesIO(data))
assert ftp.size("data.bin") == len(data), ftp.size("data.bin")
name = "h\u00e9llo-\u65e5\u672c.txt"
ftp.storbinary("STOR " + name, io.BytesIO(b"utf8"))
names = [n for n, facts in ftp.mlsd()]
assert name in names and "data.bin" in names, names
# OPTS MLST (RFC 3659 7.9) chooses the facts MLSD sends.
entries = dict(ftp.mlsd(facts=["type", "size", "unix.mode"]))
assert entries["data.bin"] == {"type": "file", "size": str(len(data)), "unix.mode": "0644"}, entries["data.bin"]
assert entries["."]["type"] == "cdir" and entries[".."]["type"] == "pdir", entries
got = io.BytesIO()
ftp.retrbinary("RETR data.bin", got.write)
assert got.getvalue() == data
ftp.rename("data.bin", "moved.bin")
ftp.delete("moved.bin")
ftp.cwd("/")
print("PWD", ftp.pwd())
ftp.quit()
print("OK")
`

func TestInteropPythonFtplib(t *testing.T) {
	t.Parallel()
	python := needTool(t, "python3")
	s := startServer(t)
	for _, mode := range []string{"plain", "tls"} {
		t.Run(mode, func(t *testing.T) {
			os.RemoveAll(filepath.Join(s.site(), "py"))
			out := runTool(t, python, "-c", ftplibScript, "127.0.0.1", fmt.Sprint(s.ftpPort), "web.bob", goodPassword, mode)
			if !strings.Contains(out, "OK") || !strings.Contains(out, "PWD /") {
				t.Fatalf("ftplib (%s) output: %s", mode, out)
			}
			if _, err := os.Stat(filepath.Join(s.site(), "py", "h\u00e9llo-\u65e5\u672c.txt")); err != nil {
				t.Errorf("UTF-8 file not on disk: %v", err)
			}
		})
	}
}
