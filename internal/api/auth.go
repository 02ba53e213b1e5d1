package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/panelftp/panelftp/internal/service"
)

const tokenHint = `send "Authorization: Bearer <secret>"; an administrator creates a token with "panelftp admin token NAME"`

// authenticate returns the ID of the API token the request carries
// (RFC 6750 bearer token in the Authorization header; never in the URL,
// where proxies and logs would keep it).
func (s *server) authenticate(r *http.Request) (string, error) {
	scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return "", &apiError{status: http.StatusUnauthorized, code: "missing_token",
			msg: "this request needs an API token", hint: tokenHint}
	}
	tok, err := s.svc.CheckAPIToken(r.Context(), secret)
	if errors.Is(err, service.ErrBadCredentials) {
		s.log.Warn("API token refused", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
		return "", &apiError{status: http.StatusUnauthorized, code: "invalid_token",
			msg: "the API token is unknown or was revoked", hint: tokenHint}
	}
	if err != nil {
		return "", err
	}
	return tok.ID, nil
}

// challenge is the WWW-Authenticate value for a 401 with code.
func challenge(code string) string {
	if code == "invalid_token" {
		return `Bearer realm="panelftp", error="invalid_token", error_description="the API token is unknown or was revoked"`
	}
	return `Bearer realm="panelftp"`
}
