package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/panelftp/panelftp/internal/domain"
)

// userRow is one sub-user in a table of the owner's or the admin's page.
type userRow struct {
	Username, Account, Path string
	Space                   spaceUse
	LastLogin               lastLoginView
	Enabled                 bool
	Expired                 bool // its last day of access has passed
	ReadOnly                bool
	Search                  string // what the client-side filter matches
	URL                     string // base of this user's pages
}

// lastLoginView is when and from where a sub-user last logged in.
type lastLoginView struct {
	At timeView
	IP string // "" when unknown
}

// addForm is what the Add Account section keeps after a refused attempt:
// every typed value, the password too, so that a generated one is not
// lost to a mistake in another field (the page is never cached).
type addForm struct {
	Name, Password, Path, Quota string
}

// addFields pairs the Add Account fields with their inputs, in form order.
var addFields = []string{"username", "add-username", "password", "add-password", "path", "add-path", "quota", "add-quota"}

type ftpPage struct {
	Connect connectInfo
	Account string
	Suffix  string // ".bob", shown after the username input
	Count   string
	Limit   int
	Full    bool
	Home    spaceUse // the whole home folder
	Users   []userRow
	Query   string
	AddOpen bool
	Form    addForm
	Errors  formErrors
	Created *createdUser // the sub-user just added, shown once
	Dirs    []string
	ConnURL string
	PassMin int
	PassMax int
}

// createdUser is what the person setting up a client needs, shown once
// right after Add Account.
type createdUser struct {
	Username, Password string
	URL                string // base of the user's pages, for the set-up files
}

// ftpPage is Files › FTP: connect information, the sub-users, and the
// Add Account section (open with ?add=1 or after a refused add).
func (s *server) ftpPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.showFTP(w, r, rc, http.StatusOK, r.URL.Query().Get("add") != "", addForm{Path: "/"}, formErrors{})
}

func (s *server) showFTP(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, open bool, f addForm, errs formErrors) {
	ctx := r.Context()
	a, err := s.svc.GetAccount(ctx, rc.account)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	users, err := s.svc.ListFTPUsers(ctx, rc.account)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	p := ftpPage{
		Connect: s.connectInfo(r), Account: a.Name, Suffix: "." + a.Name,
		Count: countText(len(users), a.FTPLimit), Limit: a.FTPLimit, Full: a.FTPLimit > 0 && len(users) >= a.FTPLimit,
		Home:  s.spaceOf(a.Home, "/", 0),
		Users: s.userRows(filterUsers(users, q), map[string]string{a.Name: a.Home}, rc), Query: q,
		Form: f, Errors: errs, Dirs: s.svc.FolderSuggestions(a.Home),
		ConnURL: rc.connBase(), PassMin: domain.PasswordMin, PassMax: domain.PasswordMax,
	}
	p.AddOpen = !p.Full && (open || len(errs) > 0)
	if status == http.StatusOK {
		p.Created = s.takeCreated(w, r, rc)
	}
	s.render(w, r, rc, status, "ftp", view{
		Title: "FTP", Crumbs: []crumb{{"Files", ""}, {"FTP", "/files/ftp"}},
		Summary: errs.summary(addFields...), Page: p,
	})
}

func countText(n, limit int) string {
	noun := "FTP accounts"
	if limit == 0 {
		if n == 1 {
			noun = "FTP account"
		}
		return fmt.Sprintf("%d %s (unlimited)", n, noun)
	}
	return fmt.Sprintf("%d of %d %s", n, limit, noun)
}

// filterUsers keeps the users whose username or path contains q, the
// server-side half of the search box (the table also filters as you type).
func filterUsers(users []domain.FTPUser, q string) []domain.FTPUser {
	q = strings.ToLower(q)
	if q == "" {
		return users
	}
	var out []domain.FTPUser
	for _, u := range users {
		if strings.Contains(u.Username, q) || strings.Contains(strings.ToLower(u.Path), q) {
			out = append(out, u)
		}
	}
	return out
}

// userRows builds the table rows, measuring every user's folder (see
// spaceOf). homes maps each account to its home directory.
func (s *server) userRows(users []domain.FTPUser, homes map[string]string, rc *reqCtx) []userRow {
	rows := make([]userRow, len(users))
	now := s.svc.Now()
	folders := make([]folderQuota, len(users))
	for i, u := range users {
		rows[i] = userRow{
			Username: u.Username, Account: u.Account, Path: u.Path,
			LastLogin: lastLoginView{At: newTimeView(u.LastLoginAt), IP: u.LastLoginIP},
			Enabled:   u.Enabled, Expired: u.Expired(now), ReadOnly: u.ReadOnly,
			Search: strings.ToLower(u.Username + " " + u.Path),
			URL:    rc.usersBase() + "/" + url.PathEscape(u.Username),
		}
		folders[i] = folderQuota{home: homes[u.Account], path: u.Path, quotaMB: u.QuotaMB}
	}
	for i, use := range s.spacesOf(folders) {
		rows[i].Space = use
	}
	return rows
}

// ftpAdd saves the Add Account section. The username input holds the
// part before the fixed ".account" suffix; a full name is accepted too.
// A refusal shows every field's error at once.
func (s *server) ftpAdd(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	f := addForm{
		Name:     strings.TrimSpace(r.PostFormValue("username")),
		Password: r.PostFormValue("password"),
		Path:     strings.TrimSpace(r.PostFormValue("path")),
		Quota:    strings.TrimSpace(r.PostFormValue("quota")),
	}
	username := f.Name
	if suffix := "." + rc.account; f.Name != "" && !strings.HasSuffix(strings.ToLower(username), suffix) {
		username += suffix
	}
	in := domain.NewFTPUser{Account: rc.account, Username: username, Password: f.Password, Path: f.Path}
	errs := formErrors{}
	var u domain.FTPUser
	var err error
	if quota, ok := parseQuota(f.Quota); ok {
		in.QuotaMB = quota
		u, err = s.svc.AddFTPUser(r.Context(), in)
	} else {
		errs.add("quota", "Quota must be a whole number of MB: 0 or empty means unlimited.")
		err = s.svc.CheckNewFTPUser(r.Context(), in) // the other fields' errors, at once
	}
	if domain.KindOf(err) == domain.LimitReached {
		// The page then shows Add Account disabled, with the one sentence
		// explaining why.
		s.showFTP(w, r, rc, http.StatusUnprocessableEntity, false, addForm{Path: "/"}, formErrors{})
		return
	}
	if err != nil && !isFormError(err, errs, "username", "password", "path", "quota") {
		s.fail(w, r, rc, err)
		return
	}
	if len(errs) > 0 {
		s.showFTP(w, r, rc, http.StatusUnprocessableEntity, true, f, errs)
		return
	}
	s.setCreated(w, rc, u.Username, f.Password)
	s.setFlash(w, "FTP account "+u.Username+" created, locked into "+u.Path+".")
	http.Redirect(w, r, "/files/ftp#created", http.StatusSeeOther)
}

// parseQuota reads a quota in MB; empty means 0 (unlimited).
func parseQuota(v string) (int64, bool) {
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return 0, false
	}
	return n, true
}
