package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/panelftp/panelftp/bench/harness"
)

// metric is one row of the report.
type metric struct {
	id       string
	scenario int
	title    string
	unit     string
	higher   bool // a higher value is better
	cpu      bool // CPU use was sampled
	format   string
}

var metrics = []metric{
	{"1", 1, "download of the big file", "MiB/s", true, true, "%.0f"},
	{"2", 2, "upload of the big file", "MiB/s", true, true, "%.0f"},
	{"3", 3, "small files up then down, 1 conn", "files/s", true, true, "%.0f"},
	{"4", 4, "listing of the big folder", "listings/s", true, true, "%.1f"},
	{"5a", 5, "clients at once: total time", "s", false, true, "%.2f"},
	{"5b", 5, "clients at once: p99 per client", "ms", false, false, "%.0f"},
	{"6a", 6, "log-ins one at a time", "log-ins/s", true, true, "%.0f"},
	{"6b", 6, "log-ins in parallel", "log-ins/s", true, true, "%.0f"},
	{"7", 7, "memory per idle session (RSS)", "KiB", false, false, "%.0f"},
	{"8a", 8, "TLS download of the big file", "MiB/s", true, true, "%.0f"},
	{"8b", 8, "TLS small files up then down", "files/s", true, true, "%.0f"},
	{"9a", 9, "NOOP p99 with sessions held, some busy", "ms", false, true, "%.1f"},
	{"9b", 9, "memory per held session (RSS)", "KiB", false, false, "%.0f"},
}

var metricLoopback = metric{"L", 0, "loopback limit (sendfile)", "MiB/s", true, true, "%.0f"}

// title gives the metric's row title with this run's sizes.
func (m metric) label(o *options) string {
	switch m.id {
	case "1", "2", "8a":
		return fmt.Sprintf("%s %s (%s)", m.id, m.title, harness.FormatSize(o.size))
	case "3", "8b":
		return fmt.Sprintf("%s %s (%d × %s)", m.id, m.title, o.files, harness.FormatSize(o.fileSize))
	case "4":
		return fmt.Sprintf("%s %s (%d entries × %d)", m.id, m.title, o.entries, o.listRepeat)
	case "5a", "5b":
		return fmt.Sprintf("%s %s (%d, %s each)", m.id, m.title, o.clients, harness.FormatSize(o.clientSize))
	case "6a", "6b":
		n := 1
		if m.id == "6b" {
			n = o.parallel
		}
		return fmt.Sprintf("%s %s (%d, %d at once)", m.id, m.title, o.logins, n)
	case "7":
		return fmt.Sprintf("%s %s (%d sessions)", m.id, m.title, o.sessions)
	case "9a", "9b":
		return fmt.Sprintf("%s %s (%d sessions, %d downloading)", m.id, m.title, o.held, o.heldBusy)
	}
	return m.id + " " + m.title
}

// formatCell writes a figure with its unit and the CPU it took.
func formatCell(m metric, c *cell) string {
	switch {
	case c == nil:
		return "–"
	case c.err != "":
		return "FAILED: " + c.err
	case c.na != "":
		return "n/a"
	}
	s := fmt.Sprintf(m.format+" %s", c.value, m.unit)
	if m.cpu && c.use.Wall > 0 {
		warn := ""
		if clientBound(m, c) {
			warn = "!"
		}
		s += fmt.Sprintf(" (cli %.0f%%%s, srv %.0f%%)", 100*c.use.Client, warn, 100*c.use.Server)
	}
	return s
}

// clientBound reports whether the client used nearly a whole core, so the
// figure may show the client's limit rather than the server's.
func clientBound(m metric, c *cell) bool {
	return m.cpu && m.id != metricLoopback.id && c != nil && c.err == "" && c.use.Client >= 0.9
}

// clientBoundNote warns about figures that may be limited by the client.
func (r *results) clientBoundNote() string {
	var hit []string
	for _, m := range r.shownMetrics() {
		for _, s := range r.servers {
			if clientBound(m, r.get(m.id, s.name)) {
				hit = append(hit, m.id+" "+s.name)
			}
		}
	}
	if len(hit) == 0 {
		return ""
	}
	return "warning: the client used 90% of a core or more (marked !) in " + strings.Join(hit, ", ") +
		": those figures may be the client's limit rather than the server's"
}

// ratio is how many times better panelftp did than peer: panelftp ÷ peer
// for rates, peer ÷ panelftp for times and memory.
func ratio(m metric, panel, peer *cell) (float64, bool) {
	if panel == nil || peer == nil || panel.err != "" || peer.err != "" || panel.na != "" || peer.na != "" ||
		panel.value <= 0 || peer.value <= 0 {
		return 0, false
	}
	if m.higher {
		return panel.value / peer.value, true
	}
	return peer.value / panel.value, true
}

// peerNames lists the peers that ran, in order.
func (r *results) peerNames() []string {
	var out []string
	for _, s := range r.servers {
		if s.name != "panelftp" && s.skipped == "" {
			out = append(out, s.name)
		}
	}
	return out
}

// printTable writes the human table to w.
func printTable(w io.Writer, r *results) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	peers := r.peerNames()
	head := []string{"scenario", "panelftp"}
	head = append(head, peers...)
	for _, p := range peers {
		head = append(head, "vs "+p)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	fmt.Fprintf(tw, "%s\t%s\n", metricLoopback.title, formatCell(metricLoopback, r.loopback))
	for _, m := range r.shownMetrics() {
		row := []string{m.label(r.o), formatCell(m, r.get(m.id, "panelftp"))}
		for _, p := range peers {
			row = append(row, formatCell(m, r.get(m.id, p)))
		}
		for _, p := range peers {
			row = append(row, formatRatio(m, r, p))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, s := range r.servers {
		if s.skipped != "" {
			fmt.Fprintf(w, "%s did not run: %s\n", s.name, s.skipped)
		}
	}
	for _, line := range r.targets() {
		fmt.Fprintln(w, "target:", line)
	}
	if note := r.clientBoundNote(); note != "" {
		fmt.Fprintln(w, note)
	}
	fmt.Fprintln(w, "ratio = times better than the peer (≥ 1.00: panelftp at least as good); cli/srv = CPU of client and server, 100% = one core")
}

func (r *results) shownMetrics() []metric {
	var out []metric
	for _, m := range metrics {
		if r.o.scenarios[m.scenario] {
			out = append(out, m)
		}
	}
	return out
}

func formatRatio(m metric, r *results, peer string) string {
	if v, ok := ratio(m, r.get(m.id, "panelftp"), r.get(m.id, peer)); ok {
		return fmt.Sprintf("%.2f", v)
	}
	return "–"
}

// targets checks the goals: scenarios 1–6 and 8 at least as good
// as the best peer, 1 and 2 within 80% of the loopback limit, and 7 at
// most a quarter of the lightest peer's memory per session.
func (r *results) targets() []string {
	var out []string
	peers := r.peerNames()
	for _, m := range r.shownMetrics() {
		panel := r.get(m.id, "panelftp")
		best, bestPeer := 0.0, ""
		for _, p := range peers {
			if v, ok := ratio(m, panel, r.get(m.id, p)); ok && (bestPeer == "" || v < best) {
				best, bestPeer = v, p
			}
		}
		goal := 1.0
		if m.id == "7" {
			goal = 4.0
		}
		if bestPeer != "" {
			out = append(out, fmt.Sprintf("%s %s: %.2f× the best peer (%s), goal ≥ %.2f: %s",
				m.id, m.title, best, bestPeer, goal, metOrMissed(best >= goal)))
		}
		if (m.id == "1" || m.id == "2") && panel != nil && panel.err == "" && r.loopback != nil && r.loopback.err == "" && r.loopback.value > 0 {
			share := panel.value / r.loopback.value
			out = append(out, fmt.Sprintf("%s %s: %.0f%% of the loopback limit, goal ≥ 80%%: %s",
				m.id, m.title, 100*share, metOrMissed(share >= 0.8)))
		}
	}
	return out
}

func metOrMissed(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// machine describes where the run happened.
type machine struct {
	harness.Machine
	loadStart string // /proc/loadavg's 1, 5 and 15 minute averages
	loadEnd   string
}

// busy reports whether other work kept the machine busy at the start or
// the end of the run: a 1-minute load average above half the cores.
func (m machine) busy() bool {
	for _, l := range []string{m.loadStart, m.loadEnd} {
		f := strings.Fields(l)
		if len(f) > 0 {
			if v, err := strconv.ParseFloat(f[0], 64); err == nil && v > float64(m.Cores)/2 {
				return true
			}
		}
	}
	return false
}

// command is the command line of this run, for the report.
func (r *results) command() string {
	parts := []string{"go", "run", "./bench"}
	for _, a := range r.o.args {
		if strings.ContainsAny(a, " \t'\"$\\*?&|;<>()") || a == "" {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func roundDuration(d time.Duration) time.Duration { return d.Round(time.Second) }
