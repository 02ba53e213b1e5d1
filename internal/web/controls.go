package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/panelftp/panelftp/internal/domain"
)

// Change Quota serves both roles (the brief lets owners set the quota);
// the other controls are the administrator's.

// quotaPage is the Change Quota form.
type quotaPage struct {
	userPage
	Quota string // as typed, in MB
}

func (s *server) quotaPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if u, ok := s.loadUser(w, r, rc); ok {
		s.showQuota(w, r, rc, http.StatusOK, u, limitField(u.QuotaMB), formErrors{})
	}
}

func (s *server) showQuota(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, u domain.FTPUser, typed string, errs formErrors) {
	s.render(w, r, rc, status, "quota", view{
		Title:   "Change Quota: " + u.Username,
		Crumbs:  rc.crumbs(crumb{u.Username, ""}, crumb{"Change Quota", ""}),
		Summary: errs.summary("quota", "quota"),
		Page:    quotaPage{userPage: s.userPage(rc, u, "quota", errs), Quota: typed},
	})
}

// quotaSave sets the quota in MB as typed; empty or 0 is unlimited.
func (s *server) quotaSave(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	u, ok := s.loadUser(w, r, rc)
	if !ok {
		return
	}
	typed := strings.TrimSpace(r.PostFormValue("quota"))
	errs := formErrors{}
	mb, ok := parseCount(typed)
	if !ok {
		errs.add("quota", "Give the quota as a whole number of MB, such as 500: 0 or empty means unlimited.")
		s.showQuota(w, r, rc, http.StatusUnprocessableEntity, u, typed, errs)
		return
	}
	_, ended, err := s.svc.SetFTPControls(r.Context(), u.Account, u.Username, domain.ControlsChange{QuotaMB: &mb})
	if isFormError(err, errs, "quota") {
		s.showQuota(w, r, rc, http.StatusUnprocessableEntity, u, typed, errs)
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	msg := "Quota of " + u.Username + " set to " + quotaText(mb) + "."
	if ended {
		msg += " Its open FTP sessions were disconnected so the new quota applies at once."
	}
	s.setFlash(w, msg)
	http.Redirect(w, r, rc.listURL(u.Account), http.StatusSeeOther)
}

// controlsForm is the admin's form of every control, as typed.
type controlsForm struct {
	Quota, MaxFiles, Upload, Download, MaxSessions string
	AllowIPs, DenyIPs, Expires                     string
	ReadOnly, TLSRequired                          bool
}

func controlsFormOf(u domain.FTPUser) controlsForm {
	expires := ""
	if !u.Expires.IsZero() {
		expires = domain.ExpiryText(u.Expires)
	}
	return controlsForm{
		Quota: limitField(u.QuotaMB), MaxFiles: limitField(u.MaxFiles), Upload: limitField(u.UploadKBps),
		Download: limitField(u.DownloadKBps), MaxSessions: limitField(int64(u.MaxSessions)),
		AllowIPs: strings.ReplaceAll(domain.IPListText(u.AllowIPs), ",", "\n"),
		DenyIPs:  strings.ReplaceAll(domain.IPListText(u.DenyIPs), ",", "\n"),
		Expires:  expires, ReadOnly: u.ReadOnly, TLSRequired: u.TLSRequired,
	}
}

type controlsPage struct {
	userPage
	Form    controlsForm
	Expired bool
	ListMax int
}

// controlFields are the form's inputs, by the service's field names.
var controlFields = []string{"quota", "max_files", "upload_kbps", "download_kbps", "allow_ips", "deny_ips", "expires", "max_sessions"}

func (s *server) controlsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if u, ok := s.loadUser(w, r, rc); ok {
		s.showControls(w, r, rc, http.StatusOK, u, controlsFormOf(u), formErrors{})
	}
}

func (s *server) showControls(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, u domain.FTPUser, f controlsForm, errs formErrors) {
	s.render(w, r, rc, status, "controls", view{
		Title:  "Limits and access: " + u.Username,
		Nav:    "users",
		Crumbs: rc.crumbs(crumb{u.Username, ""}, crumb{"Limits and access", ""}),
		Summary: errs.summary("quota", "c-quota", "max_files", "c-files", "upload_kbps", "c-up", "download_kbps", "c-down",
			"max_sessions", "c-sessions", "allow_ips", "c-allow", "deny_ips", "c-deny", "expires", "c-expires"),
		Page: controlsPage{userPage: s.userPage(rc, u, "controls", errs), Form: f,
			Expired: u.Expired(s.svc.Now()), ListMax: domain.IPListMax},
	})
}

// controlsSave applies the whole form; every refused field is shown next
// to its input at once, and nothing is saved unless all pass.
func (s *server) controlsSave(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	u, ok := s.loadUser(w, r, rc)
	if !ok {
		return
	}
	field := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	f := controlsForm{
		Quota: field("quota"), MaxFiles: field("max_files"), Upload: field("upload_kbps"), Download: field("download_kbps"),
		MaxSessions: field("max_sessions"), AllowIPs: field("allow_ips"), DenyIPs: field("deny_ips"), Expires: field("expires"),
		ReadOnly: r.PostFormValue("read_only") == "1", TLSRequired: r.PostFormValue("tls_required") == "1",
	}
	errs := formErrors{}
	count := func(name, typed string) *int64 {
		n, ok := parseCount(typed)
		if !ok {
			errs.add(name, "Give a whole number, or leave it empty (or 0) for no limit.")
		}
		return &n
	}
	sessions := count("max_sessions", f.MaxSessions)
	ch := domain.ControlsChange{
		QuotaMB: count("quota", f.Quota), MaxFiles: count("max_files", f.MaxFiles),
		UploadKBps: count("upload_kbps", f.Upload), DownloadKBps: count("download_kbps", f.Download),
		MaxSessions: new(int(min(*sessions, domain.MaxSessionsMax+1))),
		AllowIPs:    new(domain.SplitList(lines(f.AllowIPs))), DenyIPs: new(domain.SplitList(lines(f.DenyIPs))),
		Expires: &f.Expires, ReadOnly: &f.ReadOnly, TLSRequired: &f.TLSRequired,
	}
	if len(errs) > 0 {
		s.showControls(w, r, rc, http.StatusUnprocessableEntity, u, f, errs)
		return
	}
	_, ended, err := s.svc.SetFTPControls(r.Context(), u.Account, u.Username, ch)
	if err != nil {
		if !eachFormError(err, errs, controlFields...) {
			s.fail(w, r, rc, err)
			return
		}
		s.showControls(w, r, rc, http.StatusUnprocessableEntity, u, f, errs)
		return
	}
	msg := "Limits and access of " + u.Username + " saved."
	if ended {
		msg += " Its open FTP sessions were disconnected so the stricter rules apply at once."
	}
	s.setFlash(w, msg)
	http.Redirect(w, r, rc.listURL(u.Account), http.StatusSeeOther)
}

// eachFormError is isFormError for a refusal that joins several (one per
// field at fault): each goes next to its own field.
func eachFormError(err error, errs formErrors, fields ...string) bool {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return isFormError(err, errs, fields...)
	}
	for _, e := range joined.Unwrap() {
		if !isFormError(e, errs, fields...) {
			return false
		}
	}
	return true
}

// lines lets a list be typed one entry per line as well as with commas.
func lines(s string) string { return strings.NewReplacer("\r\n", ",", "\n", ",").Replace(s) }

// parseCount reads a limit as typed; empty is 0 (no limit). A negative
// number passes, for the rule to refuse with its own message.
func parseCount(v string) (int64, bool) {
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// countText shows a limit in a form: empty for none.
func limitField(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func quotaText(mb int64) string {
	if mb == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%d MB", mb)
}
