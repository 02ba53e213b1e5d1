package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/panelftp/panelftp/internal/domain"
)

// The administrator's area: accounts, all sub-users, all connections and
// the (read-only) FTP service settings.

type accountRow struct {
	Name, Home, Owner string
	Limit, Users      int
	Enabled           bool
	Error             string // a refused change of this row
}

// accountForm keeps what was typed into the create form, the password
// too (the page is never cached), so one mistake does not cost the rest.
type accountForm struct {
	Account, Home, UID, GID, Limit, Password string
}

// accountFields pairs the create form's fields with their inputs.
var accountFields = []string{"account", "acc-name", "home", "acc-home", "uid", "acc-uid", "gid", "acc-gid",
	"ftp_limit", "acc-limit", "password", "acc-password"}

type accountsPage struct {
	Accounts []accountRow
	Form     accountForm
	Errors   formErrors
	Open     bool
}

func (s *server) accountsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.showAccounts(w, r, rc, http.StatusOK, accountsPage{Open: r.URL.Query().Get("add") != ""}, "", "")
}

// showAccounts renders the accounts page; rowName/rowErr put an error on
// one account's row.
func (s *server) showAccounts(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, p accountsPage, rowName, rowErr string) {
	ctx := r.Context()
	accounts, err := s.svc.ListAccounts(ctx)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	users, err := s.svc.ListFTPUsers(ctx, "")
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	count := map[string]int{}
	for _, u := range users {
		count[u.Account]++
	}
	for _, a := range accounts {
		row := accountRow{Name: a.Name, Home: a.Home, Owner: ownerText(a), Limit: a.FTPLimit, Users: count[a.Name], Enabled: a.Enabled}
		if a.Name == rowName {
			row.Error = rowErr
		}
		p.Accounts = append(p.Accounts, row)
	}
	if p.Errors == nil {
		p.Errors = formErrors{}
	}
	if len(p.Errors) > 0 {
		p.Open = true
	}
	summary := p.Errors.summary(accountFields...)
	if rowErr != "" {
		summary = []summaryItem{{ID: "limit-" + rowName, Msg: rowErr}}
	}
	s.render(w, r, rc, status, "accounts", view{
		Title: "Accounts", Nav: "accounts",
		Crumbs:  []crumb{{"Administration", "/admin/accounts"}, {"Accounts", ""}},
		Summary: summary, Page: p,
	})
}

func ownerText(a domain.Account) string {
	if a.UID == domain.NoID && a.GID == domain.NoID {
		return "server's"
	}
	id := func(n int) string {
		if n == domain.NoID {
			return "—"
		}
		return strconv.Itoa(n)
	}
	return id(a.UID) + ":" + id(a.GID)
}

// parseID reads a uid or gid; empty keeps the server's own.
func parseID(v string) (int, bool) {
	if v == "" {
		return domain.NoID, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

// accountAdd creates an account; a refusal shows every field's error at
// once.
func (s *server) accountAdd(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	field := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	f := accountForm{Account: field("account"), Home: field("home"), UID: field("uid"), GID: field("gid"),
		Limit: field("ftp_limit"), Password: r.PostFormValue("password")}
	errs := formErrors{}
	in := domain.NewAccount{Name: domain.Lower(f.Account), Home: f.Home, UID: domain.NoID, GID: domain.NoID,
		PanelPassword: f.Password}
	var ok bool
	if in.UID, ok = parseID(f.UID); !ok {
		errs.add("uid", "UID must be a number, 0 or more; leave it empty to keep the server's own.")
		in.UID = domain.NoID
	}
	if in.GID, ok = parseID(f.GID); !ok {
		errs.add("gid", "GID must be a number, 0 or more; leave it empty to keep the server's own.")
		in.GID = domain.NoID
	}
	if in.FTPLimit, ok = parseLimit(f.Limit); !ok {
		errs.add("ftp_limit", "The limit must be a whole number: 0 means unlimited.")
		in.FTPLimit = 0
	}
	var err error
	if len(errs) == 0 {
		_, err = s.svc.AddAccount(r.Context(), in)
	} else {
		err = s.svc.CheckNewAccount(r.Context(), in) // the other fields' errors, at once
	}
	if err != nil && !isFormError(err, errs, "account", "home", "uid", "gid", "ftp_limit", "password") {
		s.fail(w, r, rc, err)
		return
	}
	if len(errs) > 0 {
		s.showAccounts(w, r, rc, http.StatusUnprocessableEntity, accountsPage{Form: f, Errors: errs}, "", "")
		return
	}
	s.setFlash(w, "Account "+in.Name+" created.")
	http.Redirect(w, r, "/admin/accounts", http.StatusSeeOther)
}

func parseLimit(v string) (int, bool) {
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

func (s *server) accountLimit(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	name := r.PathValue("name")
	limit, ok := parseLimit(strings.TrimSpace(r.PostFormValue("ftp_limit")))
	if !ok {
		s.showAccounts(w, r, rc, http.StatusUnprocessableEntity, accountsPage{}, name,
			"The limit of "+name+" must be a whole number: 0 means unlimited.")
		return
	}
	if err := s.svc.SetFTPLimit(r.Context(), name, limit); err != nil {
		if domain.KindOf(err) == domain.Invalid {
			s.showAccounts(w, r, rc, http.StatusUnprocessableEntity, accountsPage{}, name, sentence(err.Error()))
			return
		}
		s.fail(w, r, rc, err)
		return
	}
	s.setFlash(w, fmt.Sprintf("FTP limit of %s set to %s.", name, limitText(limit)))
	http.Redirect(w, r, "/admin/accounts", http.StatusSeeOther)
}

func limitText(n int) string {
	if n == 0 {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

func (s *server) accountEnabled(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	name := r.PathValue("name")
	enabled := r.PostFormValue("enabled") == "1"
	if err := s.svc.SetAccountEnabled(r.Context(), name, enabled); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	msg := "Account " + name + " enabled."
	if !enabled {
		msg = "Account " + name + " disabled: its FTP sessions were disconnected and its users cannot log in."
	}
	s.setFlash(w, msg)
	http.Redirect(w, r, "/admin/accounts", http.StatusSeeOther)
}

type accountPage struct {
	Account domain.Account
	Users   int
	Errors  formErrors
}

func (s *server) loadAccount(w http.ResponseWriter, r *http.Request, rc *reqCtx) (accountPage, bool) {
	a, err := s.svc.GetAccount(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, rc, err)
		return accountPage{}, false
	}
	users, err := s.svc.ListFTPUsers(r.Context(), a.Name)
	if err != nil {
		s.fail(w, r, rc, err)
		return accountPage{}, false
	}
	return accountPage{Account: a, Users: len(users), Errors: formErrors{}}, true
}

func (s *server) accountPasswordPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if p, ok := s.loadAccount(w, r, rc); ok {
		s.showAccountPage(w, r, rc, http.StatusOK, "account-password", "Panel password", p)
	}
}

func (s *server) showAccountPage(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, page, label string, p accountPage) {
	s.render(w, r, rc, status, page, view{
		Title: label + ": " + p.Account.Name, Nav: "accounts",
		Crumbs: []crumb{{"Administration", "/admin/accounts"}, {"Accounts", "/admin/accounts"},
			{p.Account.Name, ""}, {label, ""}},
		Summary: p.Errors.summary("password", "password", "confirm", "confirm", "force", "force"),
		Page:    p,
	})
}

func (s *server) accountPassword(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, ok := s.loadAccount(w, r, rc)
	if !ok {
		return
	}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("confirm") {
		p.Errors.add("confirm", mismatchMsg)
		if err := domain.ValidatePassword(pw, p.Account.Name); err != nil {
			isFormError(err, p.Errors, "password")
		}
		s.showAccountPage(w, r, rc, http.StatusUnprocessableEntity, "account-password", "Panel password", p)
		return
	}
	err := s.svc.SetAccountPassword(r.Context(), p.Account.Name, pw)
	if isFormError(err, p.Errors, "password") {
		s.showAccountPage(w, r, rc, http.StatusUnprocessableEntity, "account-password", "Panel password", p)
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.setFlash(w, "Panel password of "+p.Account.Name+" changed; the owner's open panel sessions were ended.")
	http.Redirect(w, r, "/admin/accounts", http.StatusSeeOther)
}

func (s *server) accountDeletePage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if p, ok := s.loadAccount(w, r, rc); ok {
		s.showAccountPage(w, r, rc, http.StatusOK, "account-delete", "Delete", p)
	}
}

// accountDelete removes an account from panelftp (never its files). With
// sub-users left it needs the "also delete them" box ticked.
func (s *server) accountDelete(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, ok := s.loadAccount(w, r, rc)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "1" {
		s.showAccountPage(w, r, rc, http.StatusOK, "account-delete", "Delete", p)
		return
	}
	err := s.svc.DeleteAccount(r.Context(), p.Account.Name, r.PostFormValue("force") == "1")
	if domain.KindOf(err) == domain.Conflict {
		p.Errors.add("force", fmt.Sprintf("Account %s still has %d FTP sub-user(s): tick the box to delete them with it (their files are kept).",
			p.Account.Name, p.Users))
		s.showAccountPage(w, r, rc, http.StatusUnprocessableEntity, "account-delete", "Delete", p)
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.setFlash(w, "Account "+p.Account.Name+" deleted from panelftp. Its home directory "+p.Account.Home+" was kept.")
	http.Redirect(w, r, "/admin/accounts", http.StatusSeeOther)
}

type adminUsersPage struct {
	Accounts []string
	Account  string
	Query    string
	Users    []userRow
}

// adminUsersPage lists every sub-user, optionally of one account.
func (s *server) adminUsersPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	accounts, err := s.svc.ListAccounts(ctx)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	p := adminUsersPage{Account: domain.Lower(r.URL.Query().Get("account")), Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	homes := map[string]string{}
	for _, a := range accounts {
		p.Accounts = append(p.Accounts, a.Name)
		homes[a.Name] = a.Home
	}
	if _, ok := homes[p.Account]; !ok {
		p.Account = ""
	}
	users, err := s.svc.ListFTPUsers(ctx, p.Account)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	p.Users = s.userRows(filterUsers(users, p.Query), homes, rc)
	s.render(w, r, rc, http.StatusOK, "users", view{
		Title: "FTP users", Nav: "users",
		Crumbs: []crumb{{"Administration", "/admin/accounts"}, {"FTP users", ""}},
		Page:   p,
	})
}
