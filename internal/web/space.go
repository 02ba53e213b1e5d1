package web

import (
	"fmt"
	"sync"
)

// Quotas are typed in MB, and the FTP service counts an MB as 2^20
// bytes; the pages show space in the same unit, so that "500" typed
// into the form reads back as "500 MB".
const mb = 1 << 20

// Thresholds of the quota meter, in percent of the quota: amber from
// warnAt, red from fullAt.
const (
	warnAt = 80
	fullAt = 95
)

// spaceUse is how much a folder holds and, when it has one, how much of
// its quota that is.
type spaceUse struct {
	Used     string // "12.3 MB"; "over 1200 MB" when the walk stopped early
	Unknown  bool   // the folder could not be read
	HasQuota bool
	Quota    string // "500 MB"
	Percent  int64  // of the quota
	Level    string // "", "warn" (from warnAt) or "full" (from fullAt)
	// For the <meter>: value, max, and the bounds of the amber range.
	Bytes, Max, Low, High int64
}

// folderQuota names a folder to measure and its quota (0 = none).
type folderQuota struct {
	home, path string
	quotaMB    int64
}

// spaceOf measures one folder (see usageCache) against quotaMB.
func (s *server) spaceOf(home, path string, quotaMB int64) spaceUse {
	if home == "" {
		return spaceUse{Unknown: true}
	}
	return newSpaceUse(s.usage.get(home, path), quotaMB)
}

// spacesOf measures several folders, a few at a time.
func (s *server) spacesOf(folders []folderQuota) []spaceUse {
	out := make([]spaceUse, len(folders))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, f := range folders {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = s.spaceOf(f.home, f.path, f.quotaMB)
		})
	}
	wg.Wait()
	return out
}

func newSpaceUse(u usage, quotaMB int64) spaceUse {
	sp := spaceUse{Used: formatMB(u.Bytes), Bytes: u.Bytes}
	switch {
	case u.Err != nil:
		sp = spaceUse{Unknown: true}
	case u.Partial:
		sp.Used = "over " + sp.Used
	}
	if quotaMB <= 0 {
		return sp
	}
	limit := quotaMB * mb
	sp.HasQuota, sp.Quota, sp.Max = true, fmt.Sprintf("%d MB", quotaMB), limit
	sp.Low, sp.High = limit*warnAt/100, limit*fullAt/100-1
	sp.Bytes = min(sp.Bytes, limit)
	sp.Percent = u.Bytes * 100 / limit
	switch {
	case sp.Unknown:
	case sp.Percent >= fullAt:
		sp.Level = "full"
	case sp.Percent >= warnAt:
		sp.Level = "warn"
	}
	return sp
}

// formatMB writes n bytes in MB: one decimal below 10 MB, whole above.
func formatMB(n int64) string {
	switch v := float64(n) / mb; {
	case n == 0:
		return "0 MB"
	case v < 0.1:
		return "under 0.1 MB"
	case v < 10:
		return fmt.Sprintf("%.1f MB", v)
	default:
		return fmt.Sprintf("%.0f MB", v)
	}
}
