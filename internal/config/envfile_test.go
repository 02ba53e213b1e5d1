package config_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/panelftp/panelftp/internal/config"
)

func writeEnv(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "panelftp.env")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadEnvFile(t *testing.T) {
	p := writeEnv(t, `# panelftp settings
; also a comment

PANELFTP_DATA=/var/lib/panelftp
  PANELFTP_PUBLIC_HOST = 203.0.113.10
PANELFTP_DB="postgres://panelftp@db/panelftp?sslmode=disable"
PANELFTP_BAN_SAFE_LIST='192.0.2.0/24,198.51.100.7'
PANELFTP_PANEL_LISTEN=
PATH=/should/not/matter
`)
	vars, err := config.ReadEnvFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"PANELFTP_DATA":          "/var/lib/panelftp",
		"PANELFTP_PUBLIC_HOST":   "203.0.113.10",
		"PANELFTP_DB":            "postgres://panelftp@db/panelftp?sslmode=disable",
		"PANELFTP_BAN_SAFE_LIST": "192.0.2.0/24,198.51.100.7",
		"PANELFTP_PANEL_LISTEN":  "",
	}
	if len(vars) != len(want) {
		t.Errorf("read %d variables %v, want %d", len(vars), vars, len(want))
	}
	for k, v := range want {
		if got, ok := vars[k]; !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
		}
	}
}

func TestReadEnvFileRefusesABrokenLine(t *testing.T) {
	p := writeEnv(t, "PANELFTP_DATA=/x\nthis is not a setting\n")
	_, err := config.ReadEnvFile(p)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error %v, want one naming line 2", err)
	}
}

func TestReadEnvFileMissingIsEmpty(t *testing.T) {
	vars, err := config.ReadEnvFile(filepath.Join(t.TempDir(), "none.env"))
	if err != nil || vars != nil {
		t.Errorf("missing file: %v, %v", vars, err)
	}
}

// A flag wins over the shell's variable, which wins over the file.
func TestEnvFileComesLast(t *testing.T) {
	vars, err := config.ReadEnvFile(writeEnv(t, "PANELFTP_FTP_LISTEN=:21\nPANELFTP_DATA=/var/lib/panelftp\nPANELFTP_PUBLIC_HOST=203.0.113.10\n"))
	if err != nil {
		t.Fatal(err)
	}
	shell := map[string]string{"PANELFTP_DATA": "/srv/panelftp"}
	getenv := config.WithFile(func(k string) string { return shell[k] }, vars)

	var c config.Serve
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	config.BindServe(fs, &c)
	if err := fs.Parse([]string{"--ftp-listen", ":2121"}); err != nil {
		t.Fatal(err)
	}
	if err := config.ApplyEnv(fs, getenv); err != nil {
		t.Fatal(err)
	}
	if c.FTPListen != ":2121" || c.DataDir != "/srv/panelftp" || c.PublicHost != "203.0.113.10" {
		t.Errorf("listen %q (flag), data %q (shell), public host %q (file)", c.FTPListen, c.DataDir, c.PublicHost)
	}
}
