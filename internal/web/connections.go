package web

import (
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// connRow is one live FTP session as the connections table shows it. The
// page renders the first rows itself (so it works without JavaScript) and
// the script replaces them from the JSON feed every pollInterval.
type connRow struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Account  string `json:"account"`
	ClientIP string `json:"client_ip"`
	Client   string `json:"client"`
	TLS      string `json:"tls"`
	Since    string `json:"connected_since"`
	SinceISO string `json:"connected_at"` // RFC 3339, for the browser's time zone
	For      string `json:"connected_for"`
	Idle     string `json:"idle_for"`
	Activity string `json:"activity"`
	// Busy says a transfer runs: Disconnect then asks to confirm.
	Busy bool   `json:"busy"`
	File string `json:"file"`
	// Percent is the progress of the running transfer, -1 when the total
	// is unknown or nothing runs.
	Percent    int    `json:"percent"`
	Progress   string `json:"progress"`
	Speed      string `json:"speed"`
	Up         string `json:"up"`
	Down       string `json:"down"`
	BytesDone  int64  `json:"bytes_done"`
	BytesTotal int64  `json:"bytes_total"`
	SpeedBPS   int64  `json:"speed_bps"`
	BytesUp    int64  `json:"bytes_up"`
	BytesDown  int64  `json:"bytes_down"`
	Disconnect string `json:"disconnect_url"`
}

type connFeed struct {
	Sessions []connRow `json:"sessions"`
	Updated  string    `json:"updated"`
}

type connPage struct {
	Feed    connFeed
	FeedURL string
	Admin   bool
	Poll    int // milliseconds
}

// sessions lists the live sessions rc may see: the owner's account only,
// or every account for an admin.
func (s *server) sessions(r *http.Request, rc *reqCtx) (connFeed, error) {
	list, err := s.svc.ListSessions(r.Context(), rc.account)
	if err != nil {
		return connFeed{}, err
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].ConnectedAt.Equal(list[j].ConnectedAt) {
			return list[i].ConnectedAt.Before(list[j].ConnectedAt)
		}
		return list[i].ID < list[j].ID
	})
	now := s.cfg.Now()
	rows := make([]connRow, 0, len(list))
	for _, se := range list {
		if !rc.admin && se.Account != rc.account {
			continue // the service filters already; a second lock costs nothing
		}
		rows = append(rows, s.connRow(se, now, rc))
	}
	return connFeed{Sessions: rows, Updated: now.UTC().Format(time.RFC3339)}, nil
}

func (s *server) connRow(se domain.Session, now time.Time, rc *reqCtx) connRow {
	ip := se.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	row := connRow{
		ID: se.ID, Username: se.Username, Account: se.Account, ClientIP: ip, Client: se.Client,
		TLS: tlsText(se), Since: formatTime(se.ConnectedAt), SinceISO: isoTime(se.ConnectedAt),
		For:  formatDuration(now.Sub(se.ConnectedAt)),
		Idle: formatDuration(now.Sub(se.LastActivity)), Activity: activityText(se.Activity),
		File: se.File, Percent: -1, Up: formatBytes(se.BytesUp), Down: formatBytes(se.BytesDown),
		BytesDone: se.BytesDone, BytesTotal: se.BytesTotal, SpeedBPS: se.Speed,
		BytesUp: se.BytesUp, BytesDown: se.BytesDown,
		Disconnect: rc.connBase() + "/" + url.PathEscape(se.ID) + "/disconnect",
	}
	if row.Username == "" {
		row.Username = "(logging in)"
	}
	if row.Client == "" {
		row.Client = "—"
	}
	if se.Activity == domain.ActivityUpload || se.Activity == domain.ActivityDownload {
		row.Busy = true
		row.Progress = formatBytes(se.BytesDone)
		if se.BytesTotal > 0 {
			row.Percent = int(min(100, se.BytesDone*100/se.BytesTotal))
			row.Progress += " of " + formatBytes(se.BytesTotal)
		}
		if se.Speed > 0 {
			row.Speed = formatBytes(se.Speed) + "/s"
		}
	}
	if !se.LastActivity.IsZero() && now.Sub(se.LastActivity) < time.Second {
		row.Idle = "0 s"
	}
	return row
}

// tlsText says what TLS protects: the commands (and password) after
// AUTH TLS or on implicit FTPS, the file data after PROT P.
func tlsText(se domain.Session) string {
	switch {
	case se.TLSControl && se.TLSData:
		return "Commands and data"
	case se.TLSControl:
		return "Commands only"
	case se.TLSData:
		return "Data only"
	default:
		return "None"
	}
}

func activityText(a domain.Activity) string {
	switch a {
	case domain.ActivityUpload:
		return "Uploading"
	case domain.ActivityDownload:
		return "Downloading"
	case domain.ActivityListing:
		return "Listing"
	default:
		return "Idle"
	}
}

func (s *server) connectionsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	feed, err := s.sessions(r, rc)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	crumbs := []crumb{{"Files", ""}, {"FTP", "/files/ftp"}, {"Connections", ""}}
	if rc.admin {
		crumbs = []crumb{{"Administration", "/admin/accounts"}, {"Connections", ""}}
	}
	s.render(w, r, rc, http.StatusOK, "connections", view{
		Title: "FTP connections", Crumbs: crumbs, Nav: "connections",
		Page: connPage{Feed: feed, FeedURL: rc.connBase() + ".json", Admin: rc.admin, Poll: int(pollInterval / time.Millisecond)},
	})
}

// connectionsJSON is the feed the connections page polls.
func (s *server) connectionsJSON(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	feed, err := s.sessions(r, rc)
	if domain.KindOf(err) == domain.Unavailable {
		s.storeDown(w, r, rc, err)
		return
	}
	if err != nil {
		s.log.Error("web: listing sessions", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not list the connections"})
		return
	}
	writeJSON(w, http.StatusOK, feed)
}

// disconnect asks the node serving a session to end it. An owner can only
// name sessions of their own account: any other ID is "not found". The
// page's script posts it with fetch and gets JSON back, to mark the row at
// once; without the script, the form posts and the page reloads.
func (s *server) disconnect(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id := r.PathValue("id")
	err := s.svc.Kick(r.Context(), rc.account, id)
	if wantsJSON(r) {
		switch {
		case err == nil:
			writeJSON(w, http.StatusAccepted, map[string]string{"message": disconnectMsg})
		case domain.KindOf(err) == domain.NotFound:
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "This session has already ended."})
		default:
			s.log.Error("web: disconnect", "session", id, "err", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "The server could not disconnect this session: try again."})
		}
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.setFlash(w, disconnectMsg)
	http.Redirect(w, r, rc.connBase(), http.StatusSeeOther)
}

const disconnectMsg = "Disconnect requested: the session ends in a moment."

// wantsJSON tells the page's script (which asks for JSON) from a form post.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}
