package api

import (
	"net/http"
	"reflect"
	"strings"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/view"
)

// ftpUserJSON and ftpUserView are the shapes the CLI's --json shares.
type ftpUserJSON = view.FTPUser

var ftpUserView = view.NewFTPUser

// ftpUserCreate is the body of POST /accounts/{account}/ftp-users.
type ftpUserCreate struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Path     string `json:"path"`
	QuotaMB  int64  `json:"quota_mb"`
}

// ftpUserPatch is the body of PATCH .../ftp-users/{username}; a missing or
// null field is left as it is.
type ftpUserPatch struct {
	Password     *string   `json:"password"`
	Path         *string   `json:"path"`
	QuotaMB      *int64    `json:"quota_mb"`
	Enabled      *bool     `json:"enabled"`
	MaxFiles     *int64    `json:"max_files"`
	UploadKBps   *int64    `json:"upload_kbps"`
	DownloadKBps *int64    `json:"download_kbps"`
	AllowIPs     *[]string `json:"allow_ips"`
	DenyIPs      *[]string `json:"deny_ips"`
	ReadOnly     *bool     `json:"read_only"`
	TLSRequired  *bool     `json:"tls_required"`
	Expires      *string   `json:"expires"`
	MaxSessions  *int      `json:"max_sessions"`
}

// controls is the part of the patch that SetFTPControls applies.
func (p ftpUserPatch) controls() domain.ControlsChange {
	return domain.ControlsChange{
		QuotaMB: p.QuotaMB, MaxFiles: p.MaxFiles, UploadKBps: p.UploadKBps, DownloadKBps: p.DownloadKBps,
		AllowIPs: p.AllowIPs, DenyIPs: p.DenyIPs, ReadOnly: p.ReadOnly, TLSRequired: p.TLSRequired,
		Expires: p.Expires, MaxSessions: p.MaxSessions,
	}
}

func (s *server) listAccountFTPUsers(w http.ResponseWriter, r *http.Request) error {
	return s.writeFTPUsers(w, r, r.PathValue("account"))
}

func (s *server) listAllFTPUsers(w http.ResponseWriter, r *http.Request) error {
	return s.writeFTPUsers(w, r, r.URL.Query().Get("account"))
}

// writeFTPUsers answers with the sub-users of account, or of all accounts
// when account is "".
func (s *server) writeFTPUsers(w http.ResponseWriter, r *http.Request, account string) error {
	ctx := r.Context()
	// The store filters on the stored (lowercase) name.
	account = domain.Lower(account)
	users, err := s.svc.ListFTPUsers(ctx, account)
	if err != nil {
		return err
	}
	var accounts []domain.Account
	if account != "" {
		a, err := s.svc.GetAccount(ctx, account)
		if err != nil {
			return err
		}
		accounts = append(accounts, a)
	} else if accounts, err = s.svc.ListAccounts(ctx); err != nil {
		return err
	}
	byName := make(map[string]domain.Account, len(accounts))
	for _, a := range accounts {
		byName[a.Name] = a
	}
	out := make([]ftpUserJSON, 0, len(users))
	for _, u := range users {
		out = append(out, ftpUserView(u, byName[u.Account], s.svc.Now()))
	}
	writeJSON(w, http.StatusOK, map[string]any{"ftp_users": out})
	return nil
}

func (s *server) createFTPUser(w http.ResponseWriter, r *http.Request) error {
	var in ftpUserCreate
	if err := decode(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	u, err := s.svc.AddFTPUser(ctx, domain.NewFTPUser{
		Account: r.PathValue("account"), Username: in.Username, Password: in.Password,
		Path: in.Path, QuotaMB: in.QuotaMB,
	})
	if err != nil {
		return err
	}
	a, err := s.svc.GetAccount(ctx, u.Account)
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/accounts/"+u.Account+"/ftp-users/"+u.Username)
	writeJSON(w, http.StatusCreated, ftpUserView(u, a, s.svc.Now()))
	return nil
}

func (s *server) getFTPUser(w http.ResponseWriter, r *http.Request) error {
	return s.writeFTPUser(w, r)
}

// patchFTPUser applies each given field. Every rule is checked before the
// first change; the path goes first because creating its folder can still
// refuse (a file or a symbolic link in the way), so only a storage failure
// can leave part of a PATCH applied. A change of password, path or enabled
// flag ends the user's sessions, and so does a control made stricter.
func (s *server) patchFTPUser(w http.ResponseWriter, r *http.Request) error {
	var in ftpUserPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	if in == (ftpUserPatch{}) {
		return &apiError{status: http.StatusUnprocessableEntity, code: "invalid",
			msg: "nothing to change: give at least one of " + strings.Join(jsonFields(reflect.TypeOf(in)), ", ")}
	}
	ctx, account := r.Context(), r.PathValue("account")
	u, err := s.svc.GetFTPUser(ctx, account, r.PathValue("username"))
	if err != nil {
		return err
	}
	if err := s.checkFTPUserPatch(r, u, in); err != nil {
		return err
	}
	if in.Path != nil {
		if err := s.svc.ChangeFTPPath(ctx, u.Account, u.Username, *in.Path); err != nil {
			return err
		}
	}
	if ch := in.controls(); !ch.Empty() {
		if _, _, err := s.svc.SetFTPControls(ctx, u.Account, u.Username, ch); err != nil {
			return err
		}
	}
	if in.Password != nil {
		if err := s.svc.ChangeFTPPassword(ctx, u.Account, u.Username, *in.Password); err != nil {
			return err
		}
	}
	if in.Enabled != nil {
		if err := s.svc.SetFTPUserEnabled(ctx, u.Account, u.Username, *in.Enabled); err != nil {
			return err
		}
	}
	return s.writeFTPUser(w, r)
}

// checkFTPUserPatch applies the domain rules to every given field.
func (s *server) checkFTPUserPatch(r *http.Request, u domain.FTPUser, in ftpUserPatch) error {
	if in.Password != nil {
		if err := domain.ValidatePassword(*in.Password, u.Username); err != nil {
			return err
		}
	}
	if in.Path != nil {
		a, err := s.svc.GetAccount(r.Context(), u.Account)
		if err != nil {
			return err
		}
		if _, err := domain.NormalizePath(*in.Path, a.Home); err != nil {
			return err
		}
	}
	if ch := in.controls(); !ch.Empty() {
		if _, err := ch.Apply(u); err != nil {
			return err
		}
	}
	return nil
}

func (s *server) deleteFTPUser(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteFTPUser(r.Context(), r.PathValue("account"), r.PathValue("username")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// writeFTPUser answers with the sub-user named in the path, as stored now.
func (s *server) writeFTPUser(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, err := s.svc.GetFTPUser(ctx, r.PathValue("account"), r.PathValue("username"))
	if err != nil {
		return err
	}
	a, err := s.svc.GetAccount(ctx, u.Account)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ftpUserView(u, a, s.svc.Now()))
	return nil
}
