package web

import (
	"net/http"
	"strings"

	"github.com/panelftp/panelftp/internal/domain"
)

// The pages acting on one sub-user — Change Password, Change Path,
// Delete — serve both roles. An owner always acts inside their own
// account; the service answers "not found" for anyone else's sub-user.
// An admin acts inside the account named by the username's suffix.

// target returns the account and username a sub-user page acts on.
func (rc *reqCtx) target(r *http.Request) (account, username string) {
	username = domain.Lower(r.PathValue("user"))
	if !rc.admin {
		return rc.account, username
	}
	_, account = domain.SplitUsername(username)
	return account, username
}

// crumbs is the breadcrumb of a sub-user page.
func (rc *reqCtx) crumbs(extra ...crumb) []crumb {
	c := []crumb{{"Files", ""}, {"FTP", "/files/ftp"}}
	if rc.admin {
		c = []crumb{{"Administration", "/admin/accounts"}, {"FTP users", "/admin/users"}}
	}
	return append(c, extra...)
}

type userPage struct {
	User    domain.FTPUser
	Back    string
	Action  string
	Errors  formErrors
	NewPath string
	Dirs    []string
	PassMin int
	PassMax int
}

// loadUser fetches the sub-user of the request, answering 404 itself.
func (s *server) loadUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) (domain.FTPUser, bool) {
	account, username := rc.target(r)
	if account == "" {
		s.errorPage(w, r, rc, http.StatusNotFound, "FTP user "+username+" does not exist.")
		return domain.FTPUser{}, false
	}
	u, err := s.svc.GetFTPUser(r.Context(), account, username)
	if err != nil {
		s.fail(w, r, rc, err)
		return domain.FTPUser{}, false
	}
	return u, true
}

func (s *server) userPage(rc *reqCtx, u domain.FTPUser, action string, errs formErrors) userPage {
	return userPage{
		User: u, Back: rc.listURL(u.Account), Action: rc.usersBase() + "/" + u.Username + "/" + action,
		Errors: errs, PassMin: domain.PasswordMin, PassMax: domain.PasswordMax,
	}
}

func (s *server) passwordPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if u, ok := s.loadUser(w, r, rc); ok {
		s.showPassword(w, r, rc, http.StatusOK, u, formErrors{})
	}
}

func (s *server) showPassword(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, u domain.FTPUser, errs formErrors) {
	s.render(w, r, rc, status, "password", view{
		Title:   "Change Password: " + u.Username,
		Crumbs:  rc.crumbs(crumb{u.Username, ""}, crumb{"Change Password", ""}),
		Summary: errs.summary("password", "password", "confirm", "confirm"),
		Page:    s.userPage(rc, u, "password", errs),
	})
}

const mismatchMsg = "The two passwords do not match: type the same password in both fields."

// passwordSave sets a new password typed twice. Both a mismatch and a
// broken rule are reported at once, each next to its own field.
func (s *server) passwordSave(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	u, ok := s.loadUser(w, r, rc)
	if !ok {
		return
	}
	pw, confirm := r.PostFormValue("password"), r.PostFormValue("confirm")
	errs := formErrors{}
	if pw != confirm {
		errs.add("confirm", mismatchMsg)
		if err := domain.ValidatePassword(pw, u.Username); err != nil {
			isFormError(err, errs, "password")
		}
		s.showPassword(w, r, rc, http.StatusUnprocessableEntity, u, errs)
		return
	}
	err := s.svc.ChangeFTPPassword(r.Context(), u.Account, u.Username, pw)
	if isFormError(err, errs, "password") {
		s.showPassword(w, r, rc, http.StatusUnprocessableEntity, u, errs)
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.setFlash(w, "Password of "+u.Username+" changed. Its open FTP sessions were disconnected.")
	http.Redirect(w, r, rc.listURL(u.Account), http.StatusSeeOther)
}

func (s *server) pathPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if u, ok := s.loadUser(w, r, rc); ok {
		s.showPath(w, r, rc, http.StatusOK, u, u.Path, formErrors{})
	}
}

func (s *server) showPath(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, u domain.FTPUser, typed string, errs formErrors) {
	p := s.userPage(rc, u, "path", errs)
	p.NewPath = typed
	if a, err := s.svc.GetAccount(r.Context(), u.Account); err == nil {
		p.Dirs = s.svc.FolderSuggestions(a.Home)
	}
	s.render(w, r, rc, status, "path", view{
		Title:   "Change Path: " + u.Username,
		Crumbs:  rc.crumbs(crumb{u.Username, ""}, crumb{"Change Path", ""}),
		Summary: errs.summary("path", "path"),
		Page:    p,
	})
}

func (s *server) pathSave(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	u, ok := s.loadUser(w, r, rc)
	if !ok {
		return
	}
	typed := strings.TrimSpace(r.PostFormValue("path"))
	errs := formErrors{}
	err := s.svc.ChangeFTPPath(r.Context(), u.Account, u.Username, typed)
	if isFormError(err, errs, "path") {
		s.showPath(w, r, rc, http.StatusUnprocessableEntity, u, typed, errs)
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	changed, err := s.svc.GetFTPUser(r.Context(), u.Account, u.Username)
	if err == nil {
		u = changed
	}
	s.setFlash(w, "Path of "+u.Username+" changed to "+u.Path+". Its open FTP sessions were disconnected.")
	http.Redirect(w, r, rc.listURL(u.Account), http.StatusSeeOther)
}

// deletePage asks for confirmation: it is what the Delete button leads to
// when JavaScript is off (with it, the button itself asks, by turning into
// Confirm).
func (s *server) deletePage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if u, ok := s.loadUser(w, r, rc); ok {
		s.showDelete(w, r, rc, u)
	}
}

func (s *server) showDelete(w http.ResponseWriter, r *http.Request, rc *reqCtx, u domain.FTPUser) {
	s.render(w, r, rc, http.StatusOK, "delete", view{
		Title:  "Delete " + u.Username,
		Crumbs: rc.crumbs(crumb{u.Username, ""}, crumb{"Delete", ""}),
		Page:   s.userPage(rc, u, "delete", nil),
	})
}

// deleteUser deletes when the form says confirm=1 (the confirmation page,
// or the Confirm click of the list); otherwise it shows the confirmation.
func (s *server) deleteUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	u, ok := s.loadUser(w, r, rc)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "1" {
		s.showDelete(w, r, rc, u)
		return
	}
	if err := s.svc.DeleteFTPUser(r.Context(), u.Account, u.Username); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.setFlash(w, "FTP account "+u.Username+" deleted. Its files in "+u.Path+" were kept.")
	http.Redirect(w, r, rc.listURL(u.Account), http.StatusSeeOther)
}
