// Package metrics owns panelftp's Prometheus registry and the small
// recorders the other packages report to; it serves the registry in the
// Prometheus text format (promhttp) at /metrics.
//
// No metric has a per-account or per-user label: a server has thousands
// of accounts, and a label per account would multiply every series by
// that number. Every label here takes a handful of fixed values (a
// direction, a log-in result, a session state, a store operation, which
// are the methods of store.Store). Per-account figures are in the CLI and
// the API (ftp connections, ftp list).
package metrics

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/panelftp/panelftp/internal/domain"
)

const namespace = "panelftp"

// Direction of a transfer.
type Direction string

const (
	Upload   Direction = "upload"
	Download Direction = "download"
)

// Metrics holds the registry and every metric of panelftp. Its methods
// are safe for concurrent use, and cheap enough for the transfer path.
type Metrics struct {
	reg *prometheus.Registry

	logins        *prometheus.CounterVec
	transfers     *prometheus.CounterVec
	transferBytes *prometheus.CounterVec
	transferTime  *prometheus.HistogramVec
	hashWait      prometheus.Histogram
	storeTime     *prometheus.HistogramVec
	storeErrors   *prometheus.CounterVec
}

// New returns the metrics, registered with the Go runtime's and the
// process's own collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "logins_total",
		Help: "FTP log-in attempts by result: success, bad_credentials, user_disabled, account_disabled, ip_refused, expired, busy, error.",
	}, []string{"result"})
	m.transfers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "transfers_total",
		Help: "Finished FTP transfers by direction and status (complete, aborted).",
	}, []string{"direction", "status"})
	m.transferBytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "transfer_bytes_total",
		Help: "Bytes moved by finished FTP transfers, by direction and status (complete, aborted).",
	}, []string{"direction", "status"})
	m.transferTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "transfer_duration_seconds",
		Help:    "Duration of FTP transfers, by direction.",
		Buckets: prometheus.ExponentialBuckets(0.01, 4, 9), // 10 ms to about 11 min
	}, []string{"direction"})
	m.hashWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "password_hash_wait_seconds",
		Help:    "Time a password hash or check waited for a slot of the bounded hashing pool (0 when one was free).",
		Buckets: []float64{0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5},
	})
	m.storeTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "store_operation_duration_seconds",
		Help:    "Duration of store (database) operations, by operation.",
		Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5},
	}, []string{"operation"})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "store_errors_total",
		Help: "Store operations that failed (not refusals such as not found or a duplicate), by operation.",
	}, []string{"operation"})
	m.reg.MustRegister(m.logins, m.transfers, m.transferBytes, m.transferTime, m.hashWait, m.storeTime, m.storeErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Transfer series exist from the start, at 0, so that rates work
	// before the first transfer.
	for _, dir := range []Direction{Upload, Download} {
		for _, status := range []string{"complete", "aborted"} {
			m.transfers.WithLabelValues(string(dir), status)
			m.transferBytes.WithLabelValues(string(dir), status)
		}
		m.transferTime.WithLabelValues(string(dir))
	}
	return m
}

// Registry is the registry the metrics live in, for tests and for other
// collectors of the composition root.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// Login counts one FTP log-in attempt with its result (see
// service.LoginResult for the values).
func (m *Metrics) Login(result string) { m.logins.WithLabelValues(result).Inc() }

// Transfer counts one finished (complete) or aborted transfer of bytes
// that took d.
func (m *Metrics) Transfer(dir Direction, bytes int64, d time.Duration, complete bool) {
	status := "aborted"
	if complete {
		status = "complete"
	}
	m.transfers.WithLabelValues(string(dir), status).Inc()
	m.transferBytes.WithLabelValues(string(dir), status).Add(float64(max(bytes, 0)))
	m.transferTime.WithLabelValues(string(dir)).Observe(d.Seconds())
}

// HashWait records how long a password hash waited for the pool.
func (m *Metrics) HashWait(d time.Duration) { m.hashWait.Observe(d.Seconds()) }

// StoreCall records one store operation (measured.Observer). A refusal
// meant for people (not found, duplicate, limit) is an answer, and a
// request abandoned by its caller is not the store's fault: neither counts
// as an error.
func (m *Metrics) StoreCall(op string, d time.Duration, err error) {
	m.storeTime.WithLabelValues(op).Observe(d.Seconds())
	if err != nil && domain.KindOf(err) == 0 && !errors.Is(err, context.Canceled) {
		m.storeErrors.WithLabelValues(op).Inc()
	}
}

// WatchSessions reports, at every scrape, the live sessions list returns,
// as panelftp_sessions by state (connecting, idle, listing, upload,
// download) and TLS on the control connection (yes, no).
func (m *Metrics) WatchSessions(list func() []domain.Session) {
	m.reg.MustRegister(&sessionCollector{list: list})
}

// WatchBans reports, at every scrape, the IP bans in force.
func (m *Metrics) WatchBans(inForce func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "bans",
		Help: "IP bans in force (an IPv6 /64 counts once).",
	}, func() float64 { return float64(inForce()) }))
}

// WatchPassivePorts reports, at every scrape, how many passive ports wait
// for a data connection and how many the range has (0: no range, any free
// port).
func (m *Metrics) WatchPassivePorts(inUse func() int, size int) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "passive_ports_in_use",
			Help: "Passive ports listening for a data connection (from PASV or EPSV until the client connects or the data timeout).",
		}, func() float64 { return float64(inUse()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "passive_ports",
			Help: "Ports in the passive range (--passive-ports); 0 when any free port is used.",
		}, func() float64 { return float64(size) }))
}

// sessionCollector counts the sessions of this node at each scrape.
type sessionCollector struct {
	list func() []domain.Session
}

var sessionsDesc = prometheus.NewDesc(namespace+"_sessions",
	"Live FTP sessions of this node, by state (connecting: not logged in yet) and TLS on the control connection.",
	[]string{"state", "tls"}, nil)

// states are every value of the state label, so that each series exists
// (at 0) from the first scrape.
var states = []string{"connecting", string(domain.ActivityIdle), string(domain.ActivityListing),
	string(domain.ActivityUpload), string(domain.ActivityDownload)}

func (c *sessionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- sessionsDesc }

func (c *sessionCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[[2]string]int{}
	for _, s := range c.list() {
		state := string(s.Activity)
		if s.Username == "" {
			state = "connecting"
		} else if state == "" {
			state = string(domain.ActivityIdle)
		}
		tls := "no"
		if s.TLSControl {
			tls = "yes"
		}
		counts[[2]string{state, tls}]++
	}
	for _, state := range states {
		for _, tls := range []string{"no", "yes"} {
			ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(counts[[2]string{state, tls}]), state, tls)
		}
	}
}
