package app

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/ftpd"
	"github.com/panelftp/panelftp/internal/metrics"
	"github.com/panelftp/panelftp/internal/xferlog"
)

// openTransferLog opens --transfer-log in --transfer-log-format.
func openTransferLog(c config.Serve, log *slog.Logger) (*xferlog.Writer, error) {
	format, err := xferlog.ParseFormat(c.TransferLogFormat)
	if err != nil {
		return nil, fmt.Errorf("--transfer-log-format: %w", err)
	}
	w, err := xferlog.Open(c.TransferLog, format, log)
	if err != nil {
		return nil, fmt.Errorf("--transfer-log %s: %w", c.TransferLog, err)
	}
	return w, nil
}

// reopenTransferLog opens the transfer log's path again (SIGHUP, after
// logrotate moved the file), keeping the old file when that fails.
func (n *node) reopenTransferLog() {
	if n.xfer == nil {
		return
	}
	if err := n.xfer.Reopen(); err != nil {
		n.log.Error("transfer log reopen failed; still writing to the previous file", "file", n.cfg.TransferLog, "err", err)
		return
	}
	n.log.Info("transfer log reopened", "file", n.cfg.TransferLog)
}

// startMetrics has the metrics follow this node's sessions and bans and
// serves them (--metrics-listen).
func (n *node) startMetrics() error {
	if n.metrics == nil {
		return nil
	}
	n.metrics.WatchSessions(n.reg.List)
	_, rangeSize := n.ftp.PassivePorts()
	n.metrics.WatchPassivePorts(func() int { inUse, _ := n.ftp.PassivePorts(); return inUse }, rangeSize)
	if n.guard != nil {
		n.metrics.WatchBans(n.guard.InForce)
	}
	srv, err := startMetrics(n.cfg.MetricsListen, n.metrics, n.log)
	if err != nil {
		return err
	}
	n.closer = append(n.closer, func() { srv.Close() })
	return nil
}

// transferMetrics adapts the Prometheus metrics to what the FTP service
// reports.
type transferMetrics struct{ m *metrics.Metrics }

var _ ftpd.Metrics = transferMetrics{}

func (t transferMetrics) TransferDone(upload bool, bytes int64, took time.Duration, complete bool) {
	dir := metrics.Download
	if upload {
		dir = metrics.Upload
	}
	t.m.Transfer(dir, bytes, took, complete)
}
