package main

import "encoding/json"

// controls is the part of `ftp list --json` that `ftp set` changes.
type controls struct {
	QuotaMB      int64    `json:"quota_mb"`
	MaxFiles     int64    `json:"max_files"`
	UploadKBps   int64    `json:"upload_kbps"`
	DownloadKBps int64    `json:"download_kbps"`
	AllowIPs     []string `json:"allow_ips"`
	DenyIPs      []string `json:"deny_ips"`
	ReadOnly     bool     `json:"read_only"`
	TLSRequired  bool     `json:"tls_required"`
	Expires      *string  `json:"expires"`
	ExpiresAt    *string  `json:"expires_at"`
	Expired      bool     `json:"expired"`
	MaxSessions  int      `json:"max_sessions"`
}

func (c *cli) controls(username string) controls {
	c.t.Helper()
	var list []struct {
		Username string `json:"username"`
		controls
	}
	out := c.ok("ftp", "list", "--json")
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		c.t.Fatalf("ftp list --json: %v\n%s", err, out)
	}
	for _, u := range list {
		if u.Username == username {
			return u.controls
		}
	}
	c.t.Fatalf("%s not in ftp list --json:\n%s", username, out)
	return controls{}
}
