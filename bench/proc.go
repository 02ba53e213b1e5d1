package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of CPU times in /proc/PID/stat; it is
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// processTree returns root and all its descendants, read from /proc.
func processTree(root int) []int {
	children := map[int][]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok {
			children[st.ppid] = append(children[st.ppid], pid)
		}
	}
	tree := []int{root}
	for i := 0; i < len(tree) && i < 100000; i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree
}

type procStat struct {
	ppid int
	// cpu is utime+stime+cutime+cstime in clock ticks: the process's own
	// CPU and that of its children it has reaped.
	cpu int64
}

func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	// The command name is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
	if len(f) < 15 {
		return procStat{}, false
	}
	st := procStat{}
	st.ppid, _ = strconv.Atoi(f[1])
	for _, k := range f[11:15] {
		v, _ := strconv.ParseInt(k, 10, 64)
		st.cpu += v
	}
	return st, true
}

// treeCPU is the CPU time used so far by root's process tree, including
// children that have exited and been reaped.
func treeCPU(root int) time.Duration {
	var ticks int64
	for _, pid := range processTree(root) {
		if st, ok := readStat(pid); ok {
			ticks += st.cpu
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// memory is the resident memory of a process tree in bytes.
type memory struct {
	rss   int64 // sum of VmRSS: shared pages count once per process
	pss   int64 // sum of Pss: shared pages divided among their users
	procs int
}

// treeMemory sums VmRSS (from status) and Pss (from smaps_rollup) over
// root's process tree.
func treeMemory(root int) memory {
	var m memory
	for _, pid := range processTree(root) {
		dir := "/proc/" + strconv.Itoa(pid)
		rss, ok := kibField(dir+"/status", "VmRSS:")
		if !ok {
			continue
		}
		m.procs++
		m.rss += rss << 10
		if pss, ok := kibField(dir+"/smaps_rollup", "Pss:"); ok {
			m.pss += pss << 10
		}
	}
	return m
}

// kibField reads a "Name:   123 kB" line from a /proc file.
func kibField(path, name string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name); ok {
			v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// cpuMeter samples the CPU used by this process (the client) and by the
// server's process tree over one measurement.
type cpuMeter struct {
	start     time.Time
	self      time.Duration
	serverPID int
	server    time.Duration
}

func startCPU(serverPID int) *cpuMeter {
	m := &cpuMeter{start: time.Now(), self: selfCPU(), serverPID: serverPID}
	if serverPID > 0 {
		m.server = treeCPU(serverPID)
	}
	return m
}

// usage is what a cpuMeter saw: wall time and the cores used on average.
type usage struct {
	wall   time.Duration
	client float64 // cores used by the client (1.0 = one core busy)
	server float64 // cores used by the server's processes
}

func (m *cpuMeter) stop() usage {
	wall := time.Since(m.start)
	u := usage{wall: wall}
	if wall <= 0 {
		return u
	}
	u.client = float64(selfCPU()-m.self) / float64(wall)
	if m.serverPID > 0 {
		u.server = float64(treeCPU(m.serverPID)-m.server) / float64(wall)
	}
	return u
}

// selfCPU is the user and system CPU time of this process.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
