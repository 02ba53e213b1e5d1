package web

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// handlerFunc is a page handler that runs after log-in and CSRF checks.
type handlerFunc func(w http.ResponseWriter, r *http.Request, rc *reqCtx)

// reqCtx is what the log-in check decided about a request.
type reqCtx struct {
	sess session
	csrf string // the token this session's forms carry
	// account is the owner's own account, the only one an owner's request
	// ever passes to the service; "" for an admin, meaning all accounts.
	account string
	admin   bool
}

// usersBase is where the pages of one sub-user live for this role.
func (rc *reqCtx) usersBase() string {
	if rc.admin {
		return "/admin/users"
	}
	return "/files/ftp/users"
}

// connBase is where the connections page lives for this role.
func (rc *reqCtx) connBase() string {
	if rc.admin {
		return "/admin/connections"
	}
	return "/files/ftp/connections"
}

// listURL is the sub-user list to return to after a change.
func (rc *reqCtx) listURL(account string) string {
	if rc.admin {
		return "/admin/users?account=" + url.QueryEscape(account)
	}
	return "/files/ftp"
}

// owner wraps h with the account owner's log-in check. The account is
// re-read on every request, so disabling it, deleting it or changing its
// panel password ends existing sessions at once.
//
// When the store cannot say whether the session is still good, the answer
// is 503 and the cookie is kept: a database blip must not log out everyone
// watching the live connections page.
func (s *server) owner(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok, err := s.sessionFrom(r, roleOwner)
		if err != nil {
			s.storeDown(w, r, &reqCtx{}, err)
			return
		}
		if ok {
			a, err := s.svc.GetAccount(r.Context(), sess.Name)
			if err != nil && domain.KindOf(err) != domain.NotFound {
				s.storeDown(w, r, &reqCtx{}, err)
				return
			}
			ok = err == nil && a.Enabled && s.fingerprint(a.PanelPasswordHash) == sess.Fingerprint
		}
		if !ok {
			s.needLogin(w, r, roleOwner)
			return
		}
		rc := &reqCtx{sess: sess, csrf: s.csrfToken(string(roleOwner), sess.Nonce), account: sess.Name}
		s.serveAuthed(w, r, rc, h)
	}
}

// admin wraps h with the administrator's log-in check; like owner, it
// re-checks that the admin still exists with the same password.
func (s *server) admin(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok, err := s.sessionFrom(r, roleAdmin)
		if err != nil {
			s.storeDown(w, r, &reqCtx{admin: true}, err)
			return
		}
		if ok {
			hash, err := s.adminHash(r, sess.Name)
			if err != nil {
				s.storeDown(w, r, &reqCtx{admin: true}, err)
				return
			}
			ok = hash != "" && s.fingerprint(hash) == sess.Fingerprint
		}
		if !ok {
			s.needLogin(w, r, roleAdmin)
			return
		}
		rc := &reqCtx{sess: sess, csrf: s.csrfToken(string(roleAdmin), sess.Nonce), admin: true}
		s.serveAuthed(w, r, rc, h)
	}
}

// adminHash returns the password hash of admin name, "" when there is no
// such admin.
func (s *server) adminHash(r *http.Request, name string) (string, error) {
	admins, err := s.svc.ListAdmins(r.Context())
	if err != nil {
		return "", err
	}
	for _, a := range admins {
		if a.Name == name {
			return a.PasswordHash, nil
		}
	}
	return "", nil
}

func (s *server) sessionFrom(r *http.Request, want role) (session, bool, error) {
	name := s.cookies.forRole(want)
	c, err := r.Cookie(name)
	if err != nil {
		return session{}, false, nil
	}
	return s.decodeSession(r.Context(), name, want, c.Value)
}

// serveAuthed checks the form and its CSRF token on every POST, then runs h.
func (s *server) serveAuthed(w http.ResponseWriter, r *http.Request, rc *reqCtx, h handlerFunc) {
	if r.Method == http.MethodPost {
		if !s.parseForm(w, r, rc) {
			return
		}
		if !s.validCSRF(r, string(rc.sess.Role), rc.sess.Nonce) {
			s.csrfRefused(w, r, rc)
			return
		}
	}
	h(w, r, rc)
}

// parseForm reads a POSTed form of bounded size; a malformed one is a 400.
func (s *server) parseForm(w http.ResponseWriter, r *http.Request, rc *reqCtx) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, rc, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return false
	}
	return true
}

func (s *server) csrfRefused(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.log.Warn("web: refused POST without a valid CSRF token", "path", r.URL.Path, "ip", s.clientIP(r))
	s.errorPage(w, r, rc, http.StatusForbidden,
		"This form has expired or did not come from this panel, so nothing was changed. Reload the page and try again.")
}

// needLogin answers a request without a valid session: JSON callers get
// 401, pages are sent to the log-in form and come back afterwards.
func (s *server) needLogin(w http.ResponseWriter, r *http.Request, want role) {
	if _, err := r.Cookie(s.cookies.forRole(want)); err == nil {
		s.cookies.clear(w, s.cookies.forRole(want))
	}
	if strings.HasSuffix(r.URL.Path, ".json") {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "not logged in: reload the page and log in again"})
		return
	}
	login := "/login"
	if want == roleAdmin {
		login = "/admin/login"
	}
	if r.Method == http.MethodGet {
		login += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, login, http.StatusSeeOther)
}

// safeNext keeps a post-log-in redirect on this site and inside prefix.
func safeNext(next, prefix, fallback string) string {
	if !strings.HasPrefix(next, prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return fallback
	}
	return next
}

type loginPage struct {
	Action, NameLabel, Name, Next, Error string
	Admin                                bool
}

func (s *server) ownerLoginPage(w http.ResponseWriter, r *http.Request) {
	s.showLogin(w, r, roleOwner, http.StatusOK, loginPage{Next: r.URL.Query().Get("next")})
}

func (s *server) adminLoginPage(w http.ResponseWriter, r *http.Request) {
	s.showLogin(w, r, roleAdmin, http.StatusOK, loginPage{Next: r.URL.Query().Get("next")})
}

func (s *server) showLogin(w http.ResponseWriter, r *http.Request, who role, status int, p loginPage) {
	p.Action, p.NameLabel, p.Admin = "/login", "Account name", who == roleAdmin
	title := "Log in"
	if p.Admin {
		p.Action, p.NameLabel, title = "/admin/login", "Admin name", "Administrator log-in"
	}
	rc := &reqCtx{csrf: s.csrfToken("login", s.loginNonce(w, r)), admin: p.Admin}
	s.render(w, r, rc, status, "login", view{Title: title, Page: p})
}

func (s *server) ownerLogin(w http.ResponseWriter, r *http.Request) {
	s.login(w, r, roleOwner)
}

func (s *server) adminLogin(w http.ResponseWriter, r *http.Request) {
	s.login(w, r, roleAdmin)
}

// login checks a log-in form: CSRF, throttling, then the password.
func (s *server) login(w http.ResponseWriter, r *http.Request, who role) {
	rc := &reqCtx{admin: who == roleAdmin}
	if !s.parseForm(w, r, rc) {
		return
	}
	c, err := r.Cookie(s.cookies.login)
	if err != nil || !s.validCSRF(r, "login", c.Value) {
		s.csrfRefused(w, r, rc)
		return
	}
	name := domain.Lower(r.PostFormValue("name"))
	p := loginPage{Name: name, Next: r.PostFormValue("next")}
	ip := s.clientIP(r)
	if until, banned := s.banned(ip); banned {
		s.log.Info("web: log-in refused: IP banned", "role", who, "name", name, "ip", ip)
		p.Error = "Your IP address is banned until " + untilText(until, s.cfg.Now()) + " after repeated failed log-ins."
		s.showLogin(w, r, who, http.StatusForbidden, p)
		return
	}
	keys := newLoginKeys(who, name, ip)
	if wait := s.limiter.wait(keys); wait > 0 {
		w.Header().Set("Retry-After", secondsText(wait))
		p.Error = "Too many log-in attempts, try again in " + secondsText(wait) + " seconds."
		s.showLogin(w, r, who, http.StatusTooManyRequests, p)
		return
	}
	hash, err := s.checkLogin(r, who, name, r.PostFormValue("password"))
	switch {
	case err == nil:
		s.limiter.success(keys)
		s.startSession(w, who, name, hash)
		s.log.Info("web: log-in", "role", who, "name", name, "ip", ip)
		if who == roleAdmin {
			http.Redirect(w, r, safeNext(p.Next, "/admin/", "/admin/accounts"), http.StatusSeeOther)
		} else {
			http.Redirect(w, r, safeNext(p.Next, "/files/", "/files/ftp"), http.StatusSeeOther)
		}
		return
	case errors.Is(err, domain.ErrBadCredentials):
		s.limiter.fail(keys)
		s.log.Warn("web: failed log-in", "role", who, "name", name, "ip", ip)
		s.reportFailure(r, ip, "panel "+string(who)+" "+name+": wrong name or password")
		p.Error = "Wrong name or password."
		s.showLogin(w, r, who, http.StatusUnauthorized, p)
	case errors.Is(err, domain.ErrAccountOff):
		s.reportFailure(r, ip, "panel "+string(who)+" "+name+": account disabled")
		p.Error = "This account is disabled: contact your hosting provider."
		s.showLogin(w, r, who, http.StatusForbidden, p)
	case errors.Is(err, domain.ErrBusy):
		p.Error = "The server is busy checking other log-ins: try again in a few seconds."
		s.showLogin(w, r, who, http.StatusServiceUnavailable, p)
	default:
		s.fail(w, r, rc, err)
	}
}

// banned asks the Guard whether ip is banned, and until when.
func (s *server) banned(ip string) (time.Time, bool) {
	addr, err := netip.ParseAddr(ip)
	if s.cfg.Guard == nil || err != nil {
		return time.Time{}, false
	}
	return s.cfg.Guard.Banned(addr.Unmap())
}

// reportFailure tells the Guard about a failed log-in from ip.
func (s *server) reportFailure(r *http.Request, ip, reason string) {
	addr, err := netip.ParseAddr(ip)
	if s.cfg.Guard == nil || err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), failureTimeout)
	defer cancel()
	banned, err := s.cfg.Guard.Failure(ctx, addr.Unmap(), reason)
	if err != nil {
		s.log.Error("web: recording a failed log-in", "ip", ip, "err", err)
	}
	if banned {
		s.log.Info("web: client IP banned after failed log-ins", "ip", ip)
	}
}

// untilText names the end of a ban: the time alone within a day, with
// the date otherwise.
func untilText(until, now time.Time) string {
	until = until.UTC()
	if until.Sub(now) < 20*time.Hour {
		return until.Format("15:04 UTC")
	}
	return until.Format("2006-01-02 15:04 UTC")
}

// checkLogin verifies a password and returns the hash it matched, which
// the session's fingerprint is made from.
func (s *server) checkLogin(r *http.Request, who role, name, password string) (string, error) {
	if who == roleOwner {
		a, err := s.svc.CheckPanelLogin(r.Context(), name, password)
		return a.PanelPasswordHash, err
	}
	if err := s.svc.CheckAdminLogin(r.Context(), name, password); err != nil {
		return "", err
	}
	hash, err := s.adminHash(r, name)
	if err == nil && hash == "" {
		err = domain.ErrBadCredentials // deleted in between
	}
	return hash, err
}

// logout ends the session: the cookie is cleared, and its nonce is
// refused from now on by every node, also after a restart.
func (s *server) logout(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	flash := "You are logged out."
	if err := s.svc.LogOutPanelSession(r.Context(), rc.sess.Nonce, rc.sess.Expires); err != nil {
		// The browser forgets the cookie all the same; say what is left.
		s.log.Error("web: cannot record a log-out", "role", rc.sess.Role, "name", rc.sess.Name, "err", err)
		flash = "You are logged out in this browser, but the server could not record the log-out: a copy of this session's cookie stays valid until " +
			untilText(rc.sess.Expires, s.cfg.Now()) + ". Changing your password ends it at once."
	}
	s.cookies.clear(w, s.cookies.forRole(rc.sess.Role))
	s.setFlash(w, flash)
	if rc.admin {
		http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
