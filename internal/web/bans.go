package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// banForm is the "Ban an IP" form as typed.
type banForm struct{ IP, For, Reason string }

type bansPage struct {
	Bans   []domain.Ban
	Form   banForm
	Errors formErrors
}

// bansPage lists the IP bans in force, automatic and manual, with Lift.
func (s *server) bansPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.showBans(w, r, rc, http.StatusOK, bansPage{Form: banForm{For: "24h"}})
}

func (s *server) showBans(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, p bansPage) {
	bans, err := s.svc.ListBans(r.Context())
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	p.Bans = bans
	if p.Errors == nil {
		p.Errors = formErrors{}
	}
	s.render(w, r, rc, status, "bans", view{
		Title: "Banned IP addresses", Nav: "bans",
		Crumbs:  []crumb{{"Administration", "/admin/accounts"}, {"Banned IP addresses", ""}},
		Summary: p.Errors.summary("ip", "ban-ip", "for", "ban-for"),
		Page:    p,
	})
}

// banAdd bans an IP by hand; the service's ban keeper applies it on this
// node at once, the others when the change feed brings it.
func (s *server) banAdd(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	f := banForm{
		IP:     strings.TrimSpace(r.PostFormValue("ip")),
		For:    strings.TrimSpace(r.PostFormValue("for")),
		Reason: strings.TrimSpace(r.PostFormValue("reason")),
	}
	errs := formErrors{}
	dur, err := time.ParseDuration(f.For)
	if err != nil {
		errs.add("for", "Give a duration such as 30m, 12h or 168h.")
	} else {
		reason := f.Reason
		if reason == "" {
			reason = "banned by an administrator"
		}
		b, err := s.svc.AddBan(r.Context(), f.IP, dur, reason)
		if err == nil {
			s.setFlash(w, b.IP+" banned until "+b.Until.UTC().Format("2006-01-02 15:04 UTC")+".")
			http.Redirect(w, r, "/admin/bans", http.StatusSeeOther)
			return
		}
		if !isFormError(err, errs, "ip", "for") {
			s.fail(w, r, rc, err)
			return
		}
	}
	s.showBans(w, r, rc, http.StatusUnprocessableEntity, bansPage{Form: f, Errors: errs})
}

// banLift lifts the ban of the IP (or IPv6 /64) in the form.
func (s *server) banLift(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ip := strings.TrimSpace(r.PostFormValue("ip"))
	if err := s.svc.RemoveBan(r.Context(), ip); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.setFlash(w, "Ban of "+ip+" lifted.")
	http.Redirect(w, r, "/admin/bans", http.StatusSeeOther)
}
