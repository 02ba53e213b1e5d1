package api

import (
	"net/http"
	"strconv"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/view"
)

// accountJSON and accountView are the shapes the CLI's --json shares.
type accountJSON = view.Account

var accountView = view.NewAccount

// accountCreate is the body of POST /accounts. A missing (or null) uid or
// gid keeps the server's own.
type accountCreate struct {
	Name          string `json:"name"`
	Home          string `json:"home"`
	UID           *int   `json:"uid"`
	GID           *int   `json:"gid"`
	FTPLimit      int    `json:"ftp_limit"`
	PanelPassword string `json:"panel_password"`
}

// accountPatch is the body of PATCH /accounts/{account}; a missing or null
// field is left as it is.
type accountPatch struct {
	FTPLimit      *int    `json:"ftp_limit"`
	Enabled       *bool   `json:"enabled"`
	PanelPassword *string `json:"panel_password"`
}

func (s *server) listAccounts(w http.ResponseWriter, r *http.Request) error {
	accounts, err := s.svc.ListAccounts(r.Context())
	if err != nil {
		return err
	}
	users, err := s.svc.ListFTPUsers(r.Context(), "")
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, u := range users {
		count[u.Account]++
	}
	out := make([]accountJSON, 0, len(accounts))
	for _, a := range accounts {
		out = append(out, accountView(a, count[a.Name]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": out})
	return nil
}

func (s *server) createAccount(w http.ResponseWriter, r *http.Request) error {
	var in accountCreate
	if err := decode(r, &in); err != nil {
		return err
	}
	a, err := s.svc.AddAccount(r.Context(), domain.NewAccount{
		Name: in.Name, Home: in.Home, UID: idOrNone(in.UID), GID: idOrNone(in.GID),
		FTPLimit: in.FTPLimit, PanelPassword: in.PanelPassword,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/accounts/"+a.Name)
	writeJSON(w, http.StatusCreated, accountView(a, 0))
	return nil
}

func (s *server) getAccount(w http.ResponseWriter, r *http.Request) error {
	return s.writeAccount(w, r)
}

// patchAccount applies each given field. Every refusal comes before the
// first change: the panel password is checked against the rule first, and
// SetFTPLimit refuses a negative limit before it changes anything, so only
// a storage failure can leave part of a PATCH applied.
func (s *server) patchAccount(w http.ResponseWriter, r *http.Request) error {
	var in accountPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	if in == (accountPatch{}) {
		return &apiError{status: http.StatusUnprocessableEntity, code: "invalid",
			msg: "nothing to change: give at least one of ftp_limit, enabled, panel_password"}
	}
	ctx, name := r.Context(), r.PathValue("account")
	a, err := s.svc.GetAccount(ctx, name)
	if err != nil {
		return err
	}
	if in.PanelPassword != nil {
		if err := domain.ValidatePassword(*in.PanelPassword, a.Name); err != nil {
			return err
		}
	}
	if in.FTPLimit != nil {
		if err := s.svc.SetFTPLimit(ctx, a.Name, *in.FTPLimit); err != nil {
			return err
		}
	}
	if in.PanelPassword != nil {
		if err := s.svc.SetAccountPassword(ctx, a.Name, *in.PanelPassword); err != nil {
			return err
		}
	}
	if in.Enabled != nil {
		if err := s.svc.SetAccountEnabled(ctx, a.Name, *in.Enabled); err != nil {
			return err
		}
	}
	return s.writeAccount(w, r)
}

func (s *server) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	force := false
	if v := r.URL.Query().Get("force"); v != "" {
		var err error
		if force, err = strconv.ParseBool(v); err != nil {
			return badRequest("force", "query parameter force must be true or false, not %q", v)
		}
	}
	err := s.svc.DeleteAccount(r.Context(), r.PathValue("account"), force)
	if domain.KindOf(err) == domain.Conflict {
		return hinted{err, "add ?force=true to delete the account together with its FTP sub-users; their files are kept"}
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// writeAccount answers with the account named in the path, as stored now.
func (s *server) writeAccount(w http.ResponseWriter, r *http.Request) error {
	a, err := s.svc.GetAccount(r.Context(), r.PathValue("account"))
	if err != nil {
		return err
	}
	users, err := s.svc.ListFTPUsers(r.Context(), a.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accountView(a, len(users)))
	return nil
}

func idOrNone(id *int) int {
	if id == nil {
		return domain.NoID
	}
	return *id
}
