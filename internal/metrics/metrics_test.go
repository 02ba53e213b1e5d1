package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/panelftp/panelftp/internal/domain"
)

// scrape fetches /metrics as Prometheus would and parses it with the
// library's own text parser.
func scrape(t *testing.T, h http.Handler) ([]byte, map[string]*dto.MetricFamily) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want the text format", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, body)
	}
	return body, families
}

// value is the value of the sample of family name whose labels include
// every pair of labels (name, value, name, value...).
func value(t *testing.T, families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f, ok := families[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no sample of %s with labels %v", name, labels)
	return 0
}

func TestScrape(t *testing.T) {
	m := New()
	sessions := []domain.Session{
		{ID: "1"}, // connected, not logged in
		{ID: "2", Username: "dev.bob", Activity: domain.ActivityIdle, TLSControl: true},
		{ID: "3", Username: "dev.bob", Activity: domain.ActivityUpload, TLSControl: true},
		{ID: "4", Username: "web.bob", Activity: domain.ActivityUpload},
		{ID: "5", Username: "web.bob"}, // no activity reported yet: idle
	}
	m.WatchSessions(func() []domain.Session { return sessions })
	m.WatchBans(func() int { return 3 })
	m.WatchPassivePorts(func() int { return 7 }, 101)
	m.Login("success")
	m.Login("success")
	m.Login("ip_refused")
	m.Transfer(Upload, 1<<20, 2*time.Second, true)
	m.Transfer(Download, 500, 10*time.Millisecond, false)
	m.HashWait(0)
	m.HashWait(30 * time.Millisecond)
	m.StoreCall("GetFTPUser", time.Millisecond, nil)
	m.StoreCall("GetFTPUser", time.Millisecond, domain.NotFoundf("FTP user x does not exist"))
	m.StoreCall("GetFTPUser", time.Millisecond, context.Canceled)
	m.StoreCall("RecordLogin", 3*time.Second, errors.New("database is locked"))

	body, f := scrape(t, m.Handler())
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"panelftp_sessions", []string{"state", "connecting", "tls", "no"}, 1},
		{"panelftp_sessions", []string{"state", "idle", "tls", "yes"}, 1},
		{"panelftp_sessions", []string{"state", "idle", "tls", "no"}, 1},
		{"panelftp_sessions", []string{"state", "upload", "tls", "yes"}, 1},
		{"panelftp_sessions", []string{"state", "upload", "tls", "no"}, 1},
		{"panelftp_sessions", []string{"state", "download", "tls", "no"}, 0},
		{"panelftp_bans", nil, 3},
		{"panelftp_passive_ports_in_use", nil, 7},
		{"panelftp_passive_ports", nil, 101},
		{"panelftp_logins_total", []string{"result", "success"}, 2},
		{"panelftp_logins_total", []string{"result", "ip_refused"}, 1},
		{"panelftp_transfers_total", []string{"direction", "upload", "status", "complete"}, 1},
		{"panelftp_transfers_total", []string{"direction", "download", "status", "aborted"}, 1},
		{"panelftp_transfers_total", []string{"direction", "download", "status", "complete"}, 0},
		{"panelftp_transfer_bytes_total", []string{"direction", "upload", "status", "complete"}, 1 << 20},
		{"panelftp_transfer_bytes_total", []string{"direction", "download", "status", "aborted"}, 500},
		{"panelftp_transfer_bytes_total", []string{"direction", "download", "status", "complete"}, 0},
		{"panelftp_transfer_duration_seconds", []string{"direction", "upload"}, 1},
		{"panelftp_password_hash_wait_seconds", nil, 2},
		{"panelftp_store_operation_duration_seconds", []string{"operation", "GetFTPUser"}, 3},
		{"panelftp_store_errors_total", []string{"operation", "RecordLogin"}, 1},
	}
	for _, c := range checks {
		if got := value(t, f, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if _, ok := f["panelftp_store_errors_total"]; ok {
		for _, s := range f["panelftp_store_errors_total"].GetMetric() {
			if s.GetLabel()[0].GetValue() == "GetFTPUser" {
				t.Error("a not-found refusal or a cancelled request counted as a store error")
			}
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := f[name]; !ok {
			t.Errorf("no %s from the standard collectors", name)
		}
	}
	promtool(t, body)
}

// promtool lints the scrape with Prometheus's own tool when it is
// installed (Debian: apt-get install prometheus).
func promtool(t *testing.T, body []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed: the scrape was checked with the client library's parser only")
		return
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
