package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
)

// userRow is one sub-user in a table of the owner's or the admin's page.
type userRow struct {
	Username, Account, Path string
	Quota                   string // "—" when unlimited
	QuotaUsed, QuotaMax     int64  // for the meter, when HasQuota
	HasQuota                bool
	LastLogin               string
	Enabled                 bool
	Expired                 bool // its last day of access has passed
	ReadOnly                bool
	Search                  string // what the client-side filter matches
	URL                     string // base of this user's pages
}

// addForm is what the Add Account section keeps after a refused attempt:
// every typed value except the password.
type addForm struct {
	Name, Path, Quota string
}

type ftpPage struct {
	Connect connectInfo
	Account string
	Suffix  string // ".bob", shown after the username input
	Count   string
	Full    bool
	Users   []userRow
	Query   string
	AddOpen bool
	Form    addForm
	Errors  formErrors
	Dirs    []string
	ConnURL string
	PassMin int
	PassMax int
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
		Count: countText(len(users), a.FTPLimit), Full: a.FTPLimit > 0 && len(users) >= a.FTPLimit,
		Users: s.userRows(filterUsers(users, q), map[string]string{a.Name: a.Home}, rc), Query: q,
		AddOpen: open || len(errs) > 0, Form: f, Errors: errs, Dirs: dirSuggestions(a.Home),
		ConnURL: rc.connBase(), PassMin: domain.PasswordMin, PassMax: domain.PasswordMax,
	}
	s.render(w, r, rc, status, "ftp", view{Title: "FTP", Crumbs: []crumb{{"Files", ""}, {"FTP", "/files/ftp"}}, Page: p})
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

// userRows builds the table rows, measuring the folders of users with a
// quota a few at a time (each walk is bounded and cached).
// homes maps each account to its home directory.
func (s *server) userRows(users []domain.FTPUser, homes map[string]string, rc *reqCtx) []userRow {
	rows := make([]userRow, len(users))
	now := s.svc.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, u := range users {
		rows[i] = userRow{
			Username: u.Username, Account: u.Account, Path: u.Path, Quota: "—",
			LastLogin: lastLogin(u), Enabled: u.Enabled, Expired: u.Expired(now), ReadOnly: u.ReadOnly,
			Search: strings.ToLower(u.Username + " " + u.Path),
			URL:    rc.usersBase() + "/" + url.PathEscape(u.Username),
		}
		home := homes[u.Account]
		if u.QuotaMB <= 0 || home == "" {
			continue
		}
		wg.Add(1)
		go func(row *userRow, u domain.FTPUser) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			s.fillQuota(row, u, home)
		}(&rows[i], u)
	}
	wg.Wait()
	return rows
}

func (s *server) fillQuota(row *userRow, u domain.FTPUser, home string) {
	limit := u.QuotaMB << 20
	use := s.usage.get(home, u.Path)
	row.HasQuota, row.QuotaMax = true, limit
	switch {
	case use.Err != nil:
		row.Quota = "? of " + formatBytes(limit) + " (folder cannot be read)"
	case use.Partial:
		row.Quota = "over " + formatBytes(use.Bytes) + " of " + formatBytes(limit)
		row.QuotaUsed = min(use.Bytes, limit)
	default:
		row.Quota = formatBytes(use.Bytes) + " of " + formatBytes(limit)
		row.QuotaUsed = min(use.Bytes, limit)
	}
}

func lastLogin(u domain.FTPUser) string {
	if u.LastLoginAt.IsZero() {
		return "Never"
	}
	if u.LastLoginIP == "" {
		return formatTime(u.LastLoginAt)
	}
	return formatTime(u.LastLoginAt) + " from " + u.LastLoginIP
}

// ftpAdd saves the Add Account section. The username input holds the
// part before the fixed ".account" suffix; a full name is accepted too.
func (s *server) ftpAdd(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	f := addForm{
		Name:  strings.TrimSpace(r.PostFormValue("username")),
		Path:  strings.TrimSpace(r.PostFormValue("path")),
		Quota: strings.TrimSpace(r.PostFormValue("quota")),
	}
	errs := formErrors{}
	quota, ok := parseQuota(f.Quota)
	if !ok {
		errs["quota"] = "Quota must be a whole number of MB: 0 or empty means unlimited."
		s.showFTP(w, r, rc, http.StatusUnprocessableEntity, true, f, errs)
		return
	}
	username := f.Name
	if suffix := "." + rc.account; !strings.HasSuffix(strings.ToLower(username), suffix) {
		username += suffix
	}
	u, err := s.svc.AddFTPUser(r.Context(), service.NewFTPUser{
		Account: rc.account, Username: username, Password: r.PostFormValue("password"),
		Path: f.Path, QuotaMB: quota,
	})
	if isFormError(err, errs, "username", "password", "path", "quota") {
		s.showFTP(w, r, rc, http.StatusUnprocessableEntity, true, f, errs)
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.setFlash(w, "FTP account "+u.Username+" created, locked into "+u.Path+".")
	http.Redirect(w, r, "/files/ftp", http.StatusSeeOther)
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
