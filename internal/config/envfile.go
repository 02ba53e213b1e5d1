package config

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// DefaultEnvFile is the environment file the Debian package installs: its
// systemd unit reads it (EnvironmentFile=), and so does every panelftp
// command, so that the command line run by hand works on the same data
// directory, database and ports as the service. PANELFTP_ENV_FILE names
// another file.
const DefaultEnvFile = "/etc/panelftp/panelftp.env"

// ReadEnvFile returns the PANELFTP_* variables of the environment file at
// path, in the format of systemd's EnvironmentFile=: KEY=VALUE lines,
// with blank lines and lines starting with # or ; ignored, and a value
// optionally in single or double quotes. Other variables are left out: the
// file configures panelftp only. A missing file is no error (nil map).
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("environment file: %w (set PANELFTP_ENV_FILE=/dev/null to do without it)", err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" || strings.ContainsAny(key, " \t\"'") {
			return nil, fmt.Errorf("%s line %d: %q is not KEY=VALUE", path, n, line)
		}
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		if strings.HasPrefix(key, "PANELFTP_") {
			vars[key] = value
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return vars, nil
}

// WithFile returns a getenv that answers from getenv first and from the
// file's vars when getenv has nothing: a variable set in the shell (and a
// flag, see ApplyEnv) wins over the file.
func WithFile(getenv func(string) string, vars map[string]string) func(string) string {
	if len(vars) == 0 {
		return getenv
	}
	return func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return vars[name]
	}
}
