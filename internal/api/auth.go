package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/panelftp/panelftp/internal/domain"
)

const tokenHint = `send "Authorization: Bearer <secret>"; an administrator creates a token with "panelftp admin token LABEL"`

// authenticate returns the API token the request carries (RFC 6750 bearer
// token in the Authorization header; never in the URL, where proxies and
// logs would keep it).
func (s *server) authenticate(r *http.Request) (domain.APIToken, error) {
	scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return domain.APIToken{}, &apiError{status: http.StatusUnauthorized, code: "missing_token",
			msg: "this request needs an API token", hint: tokenHint}
	}
	tok, err := s.svc.CheckAPIToken(r.Context(), secret)
	switch {
	case errors.Is(err, domain.ErrBadCredentials):
		s.log.Warn("API token refused", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
		return domain.APIToken{}, &apiError{status: http.StatusUnauthorized, code: "invalid_token",
			msg: "the API token is unknown or was revoked", hint: tokenHint}
	case errors.Is(err, domain.ErrTokenExpired):
		s.log.Warn("API token refused: expired", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
		return domain.APIToken{}, &apiError{status: http.StatusUnauthorized, code: "invalid_token",
			msg: err.Error(), hint: "an administrator creates a new one with \"panelftp admin token LABEL --expires 90d\""}
	case err != nil:
		return domain.APIToken{}, err
	}
	return tok, nil
}

// scope confines a request made with a token limited to account: only
// the routes marked for accounts, only for that account. Another
// account's name is answered as if it did not exist; a listing that can
// be narrowed with ?account= is narrowed to it.
func (rt route) scope(r *http.Request, account string) (*http.Request, error) {
	if !rt.account {
		return nil, &apiError{status: http.StatusForbidden, code: "forbidden",
			msg:  "this token is limited to account " + account + ": " + rt.method + " " + Prefix + rt.path + " needs an administrator's token",
			hint: "an account token may read its account and manage its FTP users and connections, under " + Prefix + "/accounts/" + account}
	}
	if name := r.PathValue("account"); name != "" && domain.Lower(name) != account {
		return nil, domain.NotFoundf("account %s does not exist", name)
	}
	if !slices.Contains(rt.query, "account") {
		return r, nil
	}
	q := r.URL.Query()
	if name := q.Get("account"); name != "" && domain.Lower(name) != account {
		return nil, domain.NotFoundf("account %s does not exist", name)
	}
	q.Set("account", account)
	r = r.Clone(r.Context())
	r.URL.RawQuery = q.Encode()
	return r, nil
}

// challenge is the WWW-Authenticate value for a 401 with code.
func challenge(code string) string {
	if code == "invalid_token" {
		return `Bearer realm="panelftp", error="invalid_token", error_description="the API token is unknown, revoked or expired"`
	}
	return `Bearer realm="panelftp"`
}
