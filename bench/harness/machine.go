package harness

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where a measurement ran, for its report.
type Machine struct {
	CPU       string // model name
	Cores     int
	Kernel    string // e.g. "Linux 6.1.0-18-amd64 amd64"
	GoVersion string
}

// ThisMachine reads the processor's model from /proc/cpuinfo and the
// kernel's name and release.
func ThisMachine() Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), Kernel: runtime.GOOS, GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	ostype, err1 := os.ReadFile("/proc/sys/kernel/ostype")
	release, err2 := os.ReadFile("/proc/sys/kernel/osrelease")
	if err1 == nil && err2 == nil {
		m.Kernel = strings.TrimSpace(string(ostype)) + " " + strings.TrimSpace(string(release)) + " " + runtime.GOARCH
	}
	return m
}

// LoadAverage reads the 1, 5 and 15 minute load averages: other work on
// the machine makes the figures noisy, and the reports say so.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// ParseSize reads a size such as 1GiB, 256MiB, 4KiB, 4K or a plain count
// of bytes.
func ParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size like 1GiB, 4KiB or 512", s)
	}
	return n * mult, nil
}

// FormatSize writes n in the largest unit that divides it exactly.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// SizeValue is a flag.Value for a size in bytes (see ParseSize).
type SizeValue struct{ P *int64 }

func (v SizeValue) String() string {
	if v.P == nil {
		return ""
	}
	return FormatSize(*v.P)
}

func (v SizeValue) Set(s string) error {
	n, err := ParseSize(s)
	if err != nil {
		return err
	}
	*v.P = n
	return nil
}
