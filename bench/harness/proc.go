package harness

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

// ProcessTree returns root and all its descendants, read from /proc.
func ProcessTree(root int) []int {
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

// TreeCPU is the CPU time used so far by root's process tree, including
// children that have exited and been reaped.
func TreeCPU(root int) time.Duration {
	var ticks int64
	for _, pid := range ProcessTree(root) {
		if st, ok := readStat(pid); ok {
			ticks += st.cpu
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// SelfCPU is the user and system CPU time of this process.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Memory is the resident memory of a process tree in bytes.
type Memory struct {
	RSS   int64 // sum of VmRSS: shared pages count once per process
	PSS   int64 // sum of Pss: shared pages divided among their users
	Procs int
}

// TreeMemory sums VmRSS (from status) and Pss (from smaps_rollup) over
// root's process tree.
func TreeMemory(root int) Memory {
	var m Memory
	for _, pid := range ProcessTree(root) {
		dir := "/proc/" + strconv.Itoa(pid)
		rss, ok := KiBField(dir+"/status", "VmRSS:")
		if !ok {
			continue
		}
		m.Procs++
		m.RSS += rss << 10
		if pss, ok := KiBField(dir+"/smaps_rollup", "Pss:"); ok {
			m.PSS += pss << 10
		}
	}
	return m
}

// StatusKiB reads a field of /proc/PID/status such as "VmRSS:" or
// "VmHWM:", in KiB.
func StatusKiB(pid int, name string) (int64, bool) {
	return KiBField("/proc/"+strconv.Itoa(pid)+"/status", name)
}

// KiBField reads a "Name:   123 kB" line from a /proc file.
func KiBField(path, name string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name); ok {
			v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// CPUMeter samples the CPU used by this process (the client) and by a
// server's process tree over one measurement.
type CPUMeter struct {
	start     time.Time
	self      time.Duration
	serverPID int
	server    time.Duration
}

// StartCPU starts a measurement; serverPID 0 measures the client alone.
func StartCPU(serverPID int) *CPUMeter {
	m := &CPUMeter{start: time.Now(), self: SelfCPU(), serverPID: serverPID}
	if serverPID > 0 {
		m.server = TreeCPU(serverPID)
	}
	return m
}

// Usage is what a CPUMeter saw: wall time and the cores used on average.
type Usage struct {
	Wall   time.Duration
	Client float64 // cores used by the client (1.0 = one core busy)
	Server float64 // cores used by the server's processes
}

// Stop ends the measurement.
func (m *CPUMeter) Stop() Usage {
	wall := time.Since(m.start)
	u := Usage{Wall: wall}
	if wall <= 0 {
		return u
	}
	u.Client = float64(SelfCPU()-m.self) / float64(wall)
	if m.serverPID > 0 {
		u.Server = float64(TreeCPU(m.serverPID)-m.server) / float64(wall)
	}
	return u
}

// FDs returns what each open descriptor of pid points to (a path,
// "socket:[inode]", "pipe:[inode]"…); nil when /proc/PID/fd is unreadable.
func FDs(pid int) []string {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		if l, err := os.Readlink(dir + e.Name()); err == nil {
			out = append(out, l)
		}
	}
	return out
}

// CountFDs is how many descriptors pid has open; -1 when unknown.
func CountFDs(pid int) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// Socket is one TCP socket of the kernel's tables.
type Socket struct {
	Port  int    // local port
	State string // LISTEN, ESTABLISHED, TIME_WAIT…
}

// TCPSockets reads the TCP sockets (IPv4 and IPv6) of pid's network
// namespace, by inode: "socket:[inode]" in FDs names them.
func TCPSockets(pid int) map[string]Socket {
	out := map[string]Socket{}
	dir := "/proc/" + strconv.Itoa(pid)
	for _, table := range []string{"/net/tcp", "/net/tcp6"} {
		b, err := os.ReadFile(dir + table)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			f := strings.Fields(line)
			if len(f) < 10 || f[0] == "sl" {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			port, _ := strconv.ParseInt(hexPort, 16, 32)
			out[f[9]] = Socket{Port: int(port), State: tcpState(f[3])}
		}
	}
	return out
}

// SocketInode is the inode of a "socket:[inode]" descriptor target.
func SocketInode(target string) (string, bool) {
	ino, ok := strings.CutPrefix(target, "socket:[")
	return strings.TrimSuffix(ino, "]"), ok
}

// tcpState names a state of the kernel's TCP tables (include/net/tcp_states.h).
func tcpState(hex string) string {
	names := [...]string{"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"}
	n, err := strconv.ParseUint(hex, 16, 8)
	if err != nil || int(n) >= len(names) {
		return hex
	}
	return names[n]
}
