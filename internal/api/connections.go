package api

import (
	"net/http"

	"github.com/panelftp/panelftp/internal/domain"
)

// sessionJSON is a live FTP session (a "connection") as the API shows it:
// every field of domain.Session. Same shape as the CLI's --json.
type sessionJSON struct {
	ID           string `json:"id"`
	Node         string `json:"node"`
	Username     string `json:"username"`
	Account      string `json:"account"`
	RemoteAddr   string `json:"remote_addr"`
	Client       string `json:"client"`
	TLSControl   bool   `json:"tls_control"`
	TLSData      bool   `json:"tls_data"`
	ConnectedAt  string `json:"connected_at"`
	LastActivity string `json:"last_activity"`
	Activity     string `json:"activity"`
	File         string `json:"file"`
	BytesDone    int64  `json:"bytes_done"`
	BytesTotal   int64  `json:"bytes_total"`
	Speed        int64  `json:"speed"`
	BytesUp      int64  `json:"bytes_up"`
	BytesDown    int64  `json:"bytes_down"`
}

func sessionView(s domain.Session) sessionJSON {
	return sessionJSON{
		ID: s.ID, Node: s.Node, Username: s.Username, Account: s.Account, RemoteAddr: s.RemoteAddr,
		Client: s.Client, TLSControl: s.TLSControl, TLSData: s.TLSData,
		ConnectedAt: timeJSON(s.ConnectedAt), LastActivity: timeJSON(s.LastActivity),
		Activity: string(s.Activity), File: s.File, BytesDone: s.BytesDone, BytesTotal: s.BytesTotal,
		Speed: s.Speed, BytesUp: s.BytesUp, BytesDown: s.BytesDown,
	}
}

// kickJSON answers a disconnect request.
type kickJSON struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

func (s *server) listConnections(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	// The store filters on the stored (lowercase) name; an unknown account
	// is a 404, as for its FTP users, not an empty list.
	account := domain.Lower(r.URL.Query().Get("account"))
	if account != "" {
		if _, err := s.svc.GetAccount(ctx, account); err != nil {
			return err
		}
	}
	list, err := s.svc.ListSessions(ctx, account)
	if err != nil {
		return err
	}
	out := make([]sessionJSON, 0, len(list))
	for _, sess := range list {
		out = append(out, sessionView(sess))
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": out})
	return nil
}

// kickConnection asks the node serving the session to end it. The answer
// is 202: the node does so when it next reads the kick queue.
func (s *server) kickConnection(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.svc.Kick(r.Context(), "", id); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, kickJSON{ID: id,
		Message: "disconnect requested: the node serving the session ends it shortly"})
	return nil
}
