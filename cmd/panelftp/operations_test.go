package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/panelftp/panelftp/internal/xferlog/xferlogtest"
)

// scrapeMetrics reads the server's /metrics and parses it with the
// Prometheus client library's own parser.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, body)
	}
	return families
}

// sample is the value of the first sample of name whose labels include
// every pair given (name, value, ...): a counter's or a gauge's value, a
// histogram's count; -1 when there is none.
func sample(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
next:
	for _, m := range families[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
		return m.GetGauge().GetValue()
	}
	return -1
}

// TestMetricsAndTransferLogOfARunningServer: log-ins of every kind are
// counted by result, a running upload shows in the sessions gauge and,
// once done, in the transfer counters, a passive port waiting for its
// client shows in use, the store's operations are timed, an IP refused by
// a user's allow list leaves the fail2ban line, and the transfer log
// gets a line per transfer, in a new file after SIGHUP.
func TestMetricsAndTransferLogOfARunningServer(t *testing.T) {
	t.Parallel()
	metricsPort := freePort(t)
	xferlog := filepath.Join(t.TempDir(), "xferlog")
	s := startServer(t, "--metrics-listen", fmt.Sprintf("127.0.0.1:%d", metricsPort), "--transfer-log", xferlog)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	s.cli.ok("ftp", "add", "office.bob", goodPassword, "/", "bob")
	s.cli.ok("ftp", "set", "office.bob", "bob", "--allow-ip", "192.0.2.0/24")

	login := func(user, password string) error {
		conn, err := ftp.Dial(s.addr(), ftp.DialWithTimeout(5*time.Second))
		if err != nil {
			return err
		}
		defer conn.Quit()
		return conn.Login(user, password)
	}
	if err := login("web.bob", goodPassword); err != nil {
		t.Fatal(err)
	}
	if err := login("web.bob", "Wr0ng!Password"); err == nil {
		t.Fatal("a wrong password logged in")
	}
	if err := login("office.bob", goodPassword); err == nil {
		t.Fatal("a log-in from outside the allow list was accepted")
	}

	// A running upload, scraped while it runs.
	conn, err := ftp.Dial(s.addr(), ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Quit()
	if err := conn.Login("web.bob", goodPassword); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	stored := make(chan error, 1)
	go func() { stored <- conn.Stor("big.bin", pr) }()
	go pw.Write(make([]byte, 256<<10))
	var f map[string]*dto.MetricFamily
	deadline := time.Now().Add(10 * time.Second)
	for {
		f = scrapeMetrics(t, url)
		if sample(f, "panelftp_sessions", "state", "upload") >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no upload in panelftp_sessions while one runs: %v", f["panelftp_sessions"])
		}
		time.Sleep(100 * time.Millisecond)
	}
	pw.Close()
	if err := <-stored; err != nil {
		t.Fatal(err)
	}

	// A passive port waiting for its client.
	raw, err := textproto.Dial("tcp", s.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, step := range []struct {
		cmd  string
		want int
	}{{"", 220}, {"USER web.bob", 331}, {"PASS " + goodPassword, 230}, {"EPSV", 229}} {
		if step.cmd != "" {
			if err := raw.PrintfLine("%s", step.cmd); err != nil {
				t.Fatal(err)
			}
		}
		if _, msg, err := raw.ReadResponse(step.want); err != nil {
			t.Fatalf("%q: %v %s", step.cmd, err, msg)
		}
	}
	after := scrapeMetrics(t, url)
	if got := sample(after, "panelftp_passive_ports_in_use"); got != 1 {
		t.Errorf("panelftp_passive_ports_in_use = %v with one EPSV waiting, want 1", got)
	}
	if got := sample(after, "panelftp_passive_ports"); got != 51 {
		t.Errorf("panelftp_passive_ports = %v, want 51 (the range of 51 ports)", got)
	}
	upload := []string{"direction", "upload", "status", "complete"}
	if got := sample(after, "panelftp_transfers_total", upload...); got != 1 {
		t.Errorf("panelftp_transfers_total%v = %v, want 1", upload, got)
	}
	if got := sample(after, "panelftp_transfer_bytes_total", upload...); got != 256<<10 {
		t.Errorf("panelftp_transfer_bytes_total%v = %v, want %d", upload, got, 256<<10)
	}
	if got := sample(after, "panelftp_transfer_duration_seconds", "direction", "upload"); got != 1 {
		t.Errorf("panelftp_transfer_duration_seconds{direction=upload} counts %v transfers, want 1", got)
	}
	if got := sample(after, "panelftp_transfers_total", "direction", "download", "status", "complete"); got != 0 {
		t.Errorf("a download was counted: %v", got)
	}

	for _, c := range []struct {
		result string
		min    float64
	}{{"success", 2}, {"bad_credentials", 1}, {"ip_refused", 1}} {
		if got := sample(f, "panelftp_logins_total", "result", c.result); got < c.min {
			t.Errorf("panelftp_logins_total{result=%q} = %v, want at least %v", c.result, got, c.min)
		}
	}
	if len(f["panelftp_store_operation_duration_seconds"].GetMetric()) == 0 {
		t.Error("no store operation was timed")
	}
	if _, ok := f["panelftp_bans"]; !ok {
		t.Error("no panelftp_bans gauge")
	}
	if h := f["panelftp_password_hash_wait_seconds"].GetMetric(); len(h) != 1 || h[0].GetHistogram().GetSampleCount() < 3 {
		t.Errorf("password_hash_wait_seconds: %v", h)
	}
	if !strings.Contains(s.logs.String(), `msg="FTP login refused" ip=127.0.0.1 user=office.bob reason="IP not allowed for this user"`) {
		t.Errorf("no fail2ban line for the refused IP in:\n%s", s.logs.String())
	}

	// logrotate: move the file away, SIGHUP, and the server opens a new
	// one, where the next transfer is logged.
	if err := os.Rename(xferlog, xferlog+".1"); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(xferlog); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new transfer log after SIGHUP:\n%s", s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	r, err := conn.Retr("big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, r); n != 256<<10 || err != nil {
		t.Fatalf("download: %d bytes, %v", n, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{xferlog + ".1": "i", xferlog: "o"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		line := strings.TrimSuffix(string(b), "\n")
		e, err := xferlogtest.Parse(line)
		if err != nil || strings.Contains(line, "\n") {
			t.Errorf("%s: want one xferlog line, got %q (%v)", file, b, err)
			continue
		}
		if e.Dir != want || e.File != "/big.bin" || e.Size != 256<<10 || e.User != "web.bob" || e.State != "c" || e.Host != "127.0.0.1" {
			t.Errorf("%s: %q parsed as %+v, want a complete transfer of /big.bin in direction %s", file, line, e, want)
		}
	}
}
