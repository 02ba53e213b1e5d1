package main

import (
	"os"
	"runtime"
	"strings"
	"time"
)

// machine describes where the load test ran, for the report.
type machine struct {
	cpu     string // model name
	cores   int
	kernel  string
	goVer   string
	loadAvg string // 1, 5 and 15 minute load averages at the start
	date    time.Time
}

func thisMachine() machine {
	m := machine{cpu: "unknown", cores: runtime.NumCPU(), kernel: runtime.GOOS, goVer: runtime.Version(), date: time.Now().UTC()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(b)) + " " + runtime.GOARCH
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.loadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}
