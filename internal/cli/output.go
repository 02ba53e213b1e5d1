package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func owner(a domain.Account) string {
	id := func(n int) string {
		if n == domain.NoID {
			return "-"
		}
		return fmt.Sprint(n)
	}
	return id(a.UID) + ":" + id(a.GID)
}

func usersOfLimit(n, limit int) string {
	return fmt.Sprintf("%d/%s", n, limitText(limit))
}

func limitText(limit int) string {
	if limit == 0 {
		return "unlimited"
	}
	return fmt.Sprint(limit)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func whenText(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// bytesText prints a byte count the way people read it: 1.5 MiB.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
