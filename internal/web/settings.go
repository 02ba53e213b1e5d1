package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// settingsForm is the live settings as typed, so a refused form keeps them.
type settingsForm struct {
	PublicHost                  string
	TLSRequired                 bool
	MaxConns, MaxPerIP, MaxUser string
	Banner                      string
	HideServerName              bool
}

type settingsPage struct {
	Form     settingsForm
	Errors   formErrors
	Saved    bool // the values come from the database, not the flags
	SavedAt  time.Time
	Defaults domain.Settings
	// BannerMax is the longest greeting the form takes.
	BannerMax int
	// NodePublicHost is the --public-host of the node serving the page,
	// which overrides the saved passive address on that node.
	NodePublicHost string

	Connect       connectInfo
	HostFromURL   bool
	SecureCookies bool
	PanelURL      string
}

func formOf(s domain.Settings) settingsForm {
	num := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	return settingsForm{PublicHost: s.PublicHost, TLSRequired: s.TLSRequired,
		MaxConns: num(s.MaxConnections), MaxPerIP: num(s.MaxPerIP), MaxUser: num(s.MaxPerUser),
		Banner: s.Banner, HideServerName: s.HideServerName}
}

// settingsPage shows the live FTP service settings with a form to change
// them, and the ones that need a restart.
func (s *server) settingsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	set, saved, at, err := s.svc.Settings(r.Context())
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	if !saved {
		set = s.cfg.Defaults
	}
	s.showSettings(w, r, rc, http.StatusOK, settingsPage{Form: formOf(set), Saved: saved, SavedAt: at})
}

func (s *server) showSettings(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, p settingsPage) {
	u := url.URL{Scheme: "http", Host: r.Host}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	p.Defaults, p.Connect, p.HostFromURL = s.cfg.Defaults, s.connectInfo(r), s.cfg.FTPHost == ""
	p.BannerMax = domain.BannerMax
	p.NodePublicHost = s.cfg.NodePublicHost
	p.SecureCookies, p.PanelURL = s.cfg.SecureCookies, u.String()
	s.render(w, r, rc, status, "settings", view{
		Title: "FTP service settings", Nav: "settings",
		Crumbs: []crumb{{"Administration", "/admin/accounts"}, {"FTP service settings", ""}},
		Summary: p.Errors.summary("public_host", "set-host", "max_connections", "set-max",
			"max_per_ip", "set-ip", "max_per_user", "set-user"),
		Page: p,
	})
}

// settingsSave saves the live settings; every node applies them within
// seconds.
func (s *server) settingsSave(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	f := settingsForm{
		PublicHost:     strings.TrimSpace(r.PostFormValue("public_host")),
		TLSRequired:    r.PostFormValue("tls_required") == "1",
		MaxConns:       strings.TrimSpace(r.PostFormValue("max_connections")),
		MaxPerIP:       strings.TrimSpace(r.PostFormValue("max_per_ip")),
		MaxUser:        strings.TrimSpace(r.PostFormValue("max_per_user")),
		Banner:         r.PostFormValue("banner"),
		HideServerName: r.PostFormValue("hide_server_name") == "1",
	}
	errs := formErrors{}
	set := domain.Settings{PublicHost: f.PublicHost, TLSRequired: f.TLSRequired, Banner: f.Banner, HideServerName: f.HideServerName}
	for _, n := range []struct {
		field, value string
		dst          *int
	}{{"max_connections", f.MaxConns, &set.MaxConnections}, {"max_per_ip", f.MaxPerIP, &set.MaxPerIP}, {"max_per_user", f.MaxUser, &set.MaxPerUser}} {
		v, ok := parseLimit(n.value)
		if !ok {
			errs.add(n.field, "Give a whole number, or leave it empty for the default.")
		}
		*n.dst = v
	}
	if len(errs) == 0 {
		err := s.svc.SaveSettings(r.Context(), set)
		if err == nil {
			s.setFlash(w, "FTP service settings saved: every node applies them at once.")
			http.Redirect(w, r, "/admin/settings", http.StatusSeeOther)
			return
		}
		if !isFormError(err, errs, "public_host", "max_connections", "max_per_ip", "max_per_user", "banner") {
			s.fail(w, r, rc, err)
			return
		}
	}
	_, saved, at, _ := s.svc.Settings(r.Context())
	s.showSettings(w, r, rc, http.StatusUnprocessableEntity, settingsPage{Form: f, Errors: errs, Saved: saved, SavedAt: at})
}

// settingsReset drops the saved settings: the command-line values apply.
func (s *server) settingsReset(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := s.svc.ResetSettings(r.Context()); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.setFlash(w, "FTP service settings reset to the values panelftp serve was started with.")
	http.Redirect(w, r, "/admin/settings", http.StatusSeeOther)
}
