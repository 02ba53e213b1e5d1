package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/panelftp/panelftp/bench/harness"
)

// notesMarker starts the hand-written part of the report, which
// writeReport keeps when it rewrites the file.
const notesMarker = "<!-- bench: everything below this line is written by hand and kept when the report is regenerated -->"

// writeReport writes the markdown report to path, keeping the
// hand-written notes of an existing report.
func writeReport(path string, r *results) error {
	var b bytes.Buffer
	writeMarkdown(&b, r)
	notes := "\n## Findings and next steps\n\n(to be written after looking at the figures)\n"
	if old, err := os.ReadFile(path); err == nil {
		if _, tail, ok := strings.Cut(string(old), notesMarker+"\n"); ok {
			notes = tail
		}
	}
	b.WriteString("\n" + notesMarker + "\n" + notes)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func writeMarkdown(b *bytes.Buffer, r *results) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	p("# Benchmarks")
	p("")
	p("panelftp side by side with vsftpd, pure-ftpd and proftpd, all on loopback on one machine, written by")
	p("`go run ./bench` (see [bench/main.go](../bench/main.go)). The peers are the Debian packages, run from")
	p("their unpacked `.deb` files with a generated configuration; each server serves the same files to a")
	p("test user chrooted to a home of the same layout. All servers run for the whole benchmark, and each")
	p("scenario runs on one server after the other, so only one is measured at a time.")
	p("")
	p("## How to reproduce")
	p("")
	p("On a Debian or Ubuntu machine, as root (the peers are root-started daemons that chroot the user;")
	p("the harness creates the local user `benchftp`, which vsftpd authenticates through PAM, and sets")
	p("its password on every run):")
	p("")
	p("```sh")
	p("apt-get update                      # the peers are fetched with apt-get download")
	p("go run ./bench -write docs/BENCHMARKS.md")
	p("go run ./bench -smoke -peers ''     # every scenario at tiny sizes, panelftp only")
	p("```")
	p("")
	p("`go run ./bench -h` lists the flags: every size and count, `-peers`, `-scenarios`, `-cache`.")
	p("")
	p("## This run")
	p("")
	p("| | |")
	p("|---|---|")
	p("| command | `%s` |", r.command())
	p("| date | %s |", r.started.UTC().Format("2006-01-02 15:04 UTC"))
	p("| CPU | %s |", r.machine.CPU)
	p("| cores | %d |", r.machine.Cores)
	p("| kernel | %s |", r.machine.Kernel)
	p("| Go | %s |", r.machine.GoVersion)
	p("| run time | %s |", roundDuration(r.took))
	p("| load average (1, 5, 15 min) | %s at the start, %s at the end |", r.machine.loadStart, r.machine.loadEnd)
	p("| loopback limit | %s |", formatCell(metricLoopback, r.loopback))
	p("")
	if r.machine.busy() {
		p("**The machine was busy with other work during this run (see the load average): the figures are")
		p("noisy, so compare the ranges in the details before reading much into a ratio near 1.**")
		p("")
	}
	p("| server | version | configuration |")
	p("|---|---|---|")
	for _, s := range r.servers {
		if s.skipped != "" {
			p("| %s | – | did not run: %s |", s.name, mdEscape(oneLine(s.skipped)))
			continue
		}
		p("| %s | %s | %s |", s.name, mdEscape(s.version), mdEscape(s.notes))
	}
	p("")
	writeResults(b, r)
	p("")
	p("## Targets")
	p("")
	p("From the issue: scenarios 1–6 and 8 at least as good as the best peer (ratio ≥ 1.00), 1 and 2 within")
	p("80%% of the loopback limit, 7 at most a quarter of the lightest peer's memory per session (ratio ≥ 4.00).")
	p("")
	for _, t := range r.targets() {
		p("- %s", t)
	}
	writeScenarios(b, r)
}

func writeResults(b *bytes.Buffer, r *results) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	peers := r.peerNames()
	p("## Results")
	p("")
	head, sep := "| scenario | panelftp |", "|---|---|"
	for _, x := range peers {
		head, sep = head+" "+x+" |", sep+"---|"
	}
	for _, x := range peers {
		head, sep = head+" vs "+x+" |", sep+"---|"
	}
	p("%s", head)
	p("%s", sep)
	for _, m := range r.shownMetrics() {
		row := "| " + m.label(r.o) + " | " + mdCell(m, r.get(m.id, "panelftp")) + " |"
		for _, x := range peers {
			row += " " + mdCell(m, r.get(m.id, x)) + " |"
		}
		for _, x := range peers {
			row += " " + formatRatio(m, r, x) + " |"
		}
		p("%s", row)
	}
	p("")
	p("*vs peer* is how many times better panelftp did: panelftp ÷ peer for rates, peer ÷ panelftp for")
	p("times and memory, so ≥ 1.00 means panelftp is at least as good. *cli* and *srv* are the CPU used")
	p("during the measurement by the client (this harness) and by all the server's processes, 100%% being")
	p("one core busy; a *cli* near 100%% would mean the client limits the figure.")
	if note := r.clientBoundNote(); note != "" {
		p("")
		p("**%s**", strings.TrimPrefix(note, "warning: "))
	}
	var details []string
	for _, m := range r.shownMetrics() {
		for _, s := range append([]string{"panelftp"}, peers...) {
			if c := r.get(m.id, s); c != nil && (c.detail != "" || c.na != "") {
				d := c.detail
				if c.na != "" {
					d = c.na
				}
				details = append(details, fmt.Sprintf("- %s, %s: %s", m.id, s, mdEscape(d)))
			}
		}
	}
	if len(details) > 0 {
		p("")
		p("Details:")
		p("")
		for _, d := range details {
			p("%s", d)
		}
	}
}

// mdCell is formatCell with the CPU on a second line of the cell.
func mdCell(m metric, c *cell) string {
	return mdEscape(strings.Replace(formatCell(m, c), " (cli", "<br>(cli", 1))
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func writeScenarios(b *bytes.Buffer, r *results) {
	o := r.o
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	p("")
	p("## Scenarios")
	p("")
	p("The client is a minimal FTP client in the harness (EPSV, AUTH TLS with PROT P, TLS session")
	p("resumption on data connections): downloads are read into a 1 MiB buffer and thrown away, uploads")
	p("go from a file with sendfile (or a 1 MiB buffer over TLS). Every client session connects from")
	p("its own loopback address in 127.1.0.0/16, as the clients of a shared service come from many")
	p("addresses (panelftp refuses more than 30 log-ins a minute from one address). Every server gets")
	p("its own range of 4,000 passive ports.")
	p("")
	p("- **L** the same big file sent over a loopback TCP socket with sendfile inside the harness: the ceiling for 1 and 2.")
	p("- **1** one client downloads a file of %s (median of %d).", harness.FormatSize(o.size), o.runs)
	p("- **2** one client uploads a file of %s (median of %d; each upload is deleted afterwards, untimed).", harness.FormatSize(o.size), o.runs)
	p("- **3** one control connection uploads %d files of %s, then downloads them; files/s counts both directions.", o.files, harness.FormatSize(o.fileSize))
	p("- **4** MLSD (LIST where the server lacks MLSD) of a folder of %d entries, %d times on one connection.", o.entries, o.listRepeat)
	p("- **5** %d clients at once each connect, log in, list the home, download %s and quit: total time and the 99th percentile of one client's time.", o.clients, harness.FormatSize(o.clientSize))
	p("- **6** %d × (connect, log in, QUIT), one at a time, then %d at once.", o.logins, o.parallel)
	p("- **7** %d idle logged-in sessions: the sum of VmRSS of all the server's processes (a forking daemon's children included) minus the same sum before any log-in, per session. It runs first, on freshly started servers, each reading %s after the last log-in. The sessions open in two halves; the details give the growth during the second half alone (a garbage-collected server reuses memory it already holds, so that figure is lower for it) and PSS, which divides shared pages among the processes sharing them.", o.sessions, o.settle)
	p("- **8** scenarios 1 and 3 over explicit TLS (AUTH TLS, PROT P), with one self-signed ECDSA P-256 certificate for all servers.")
	p("- **9** %d logged-in sessions held on one server (opened %d at a time) while %d of them download %s over and over for %s; meanwhile %d probes send NOOP round the other sessions, one at a time each. 9a is the 99th percentile of a NOOP's round trip, 9b the growth of VmRSS of all the server's processes over the reading before the log-ins, per held session. A server that cannot hold the sessions fails with the number it held; so does one that leaves the machine less than 2 GiB of free memory (checked every 500 log-ins), rather than have the kernel kill processes. Every server's connection limit is %s; pure-ftpd also caps its clients at half its passive range.", o.held, heldParallel, o.heldBusy, harness.FormatSize(o.clientSize), o.heldTime, probers, maxClientsArg)
}
