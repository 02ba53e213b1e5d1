package api

import (
	"net/http"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/view"
)

// sessionJSON and sessionView are the shapes the CLI's --json shares.
type sessionJSON = view.Session

var sessionView = view.NewSession

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
// is 202: the node does so when it next reads the kick queue. With
// ?account=, a session of another account is not found.
func (s *server) kickConnection(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.svc.Kick(r.Context(), r.URL.Query().Get("account"), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, kickJSON{ID: id,
		Message: "disconnect requested: the node serving the session ends it shortly"})
	return nil
}
