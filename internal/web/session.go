package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// role separates the two kinds of panel user. Each has its own cookie and
// its own signing context, so an owner's cookie can never pass as an
// admin's, even if renamed.
type role string

const (
	roleOwner role = "owner"
	roleAdmin role = "admin"
)

// session is what a signed session cookie says.
type session struct {
	Role    role
	Name    string // account name (owner) or admin name
	Expires time.Time
	// Nonce is random per log-in: it binds the CSRF token to this session
	// and names the session when it is logged out.
	Nonce string
	// Fingerprint is a keyed digest of the password hash at log-in, so a
	// password change ends every older session.
	Fingerprint string
}

// keys are independent HMAC keys derived from the configured secret, one
// per purpose, so a value signed for one purpose is useless for another.
type keys struct {
	session, csrf, flash, fingerprint, created []byte
}

func deriveKeys(secret []byte) keys {
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("panelftp web v1 " + purpose))
		return m.Sum(nil)
	}
	return keys{
		session:     derive("session"),
		csrf:        derive("csrf"),
		flash:       derive("flash"),
		fingerprint: derive("fingerprint"),
		created:     derive("created"),
	}
}

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// cookieNames carry the __Host- prefix when cookies are Secure: browsers
// then refuse such a cookie unless it was set over HTTPS for this exact
// host and path /, so a sibling sub-domain cannot plant one.
type cookieNames struct {
	owner, admin, login, flash, created string
	secure                              bool
}

func newCookieNames(secure bool) cookieNames {
	p := "pftp_"
	if secure {
		p = "__Host-pftp_"
	}
	return cookieNames{owner: p + "owner", admin: p + "admin", login: p + "login", flash: p + "flash",
		created: p + "created", secure: secure}
}

func (c cookieNames) forRole(r role) string {
	if r == roleAdmin {
		return c.admin
	}
	return c.owner
}

func (c cookieNames) set(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (c cookieNames) clear(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
}

var b64 = base64.RawURLEncoding

// encodeSession signs s for the cookie called name.
func (s *server) encodeSession(name string, sess session) string {
	payload := strings.Join([]string{string(sess.Role), sess.Name,
		strconv.FormatInt(sess.Expires.Unix(), 10), sess.Nonce, sess.Fingerprint}, "|")
	return b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(mac(s.keys.session, name, payload))
}

// decodeSession verifies the cookie value and its expiry. Any defect —
// bad signature, wrong role for the cookie, expired, logged out — gives
// ok false. An error means the store could not say whether the session
// was logged out: the session is neither vouched for nor refused.
func (s *server) decodeSession(ctx context.Context, name string, want role, value string) (sess session, ok bool, err error) {
	p64, sig64, found := strings.Cut(value, ".")
	if !found {
		return session{}, false, nil
	}
	payload, err1 := b64.DecodeString(p64)
	sig, err2 := b64.DecodeString(sig64)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, mac(s.keys.session, name, string(payload))) {
		return session{}, false, nil
	}
	f := strings.Split(string(payload), "|")
	if len(f) != 5 || role(f[0]) != want || f[1] == "" || f[3] == "" {
		return session{}, false, nil
	}
	exp, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return session{}, false, nil
	}
	sess = session{Role: want, Name: f[1], Expires: time.Unix(exp, 0), Nonce: f[3], Fingerprint: f[4]}
	if !s.cfg.Now().Before(sess.Expires) {
		return session{}, false, nil
	}
	loggedOut, err := s.svc.PanelSessionLoggedOut(ctx, sess.Nonce)
	if err != nil {
		return session{}, false, err
	}
	return sess, !loggedOut, nil
}

// startSession sets a fresh session cookie after a successful log-in. A
// new nonce each time means a session cookie or CSRF token seen before the
// log-in is worth nothing after it.
func (s *server) startSession(w http.ResponseWriter, r role, name, passwordHash string) {
	ttl := ownerSessionTTL
	if r == roleAdmin {
		ttl = adminSessionTTL
	}
	sess := session{Role: r, Name: name, Expires: s.cfg.Now().Add(ttl), Nonce: randomHex(16),
		Fingerprint: s.fingerprint(passwordHash)}
	cookie := s.cookies.forRole(r)
	s.cookies.set(w, cookie, s.encodeSession(cookie, sess), ttl)
	s.cookies.clear(w, s.cookies.login)
}

func (s *server) fingerprint(passwordHash string) string {
	return hex.EncodeToString(mac(s.keys.fingerprint, passwordHash)[:12])
}

// csrfToken is the token every form of a session carries. It is derived,
// not stored: HMAC of the session's nonce.
func (s *server) csrfToken(scope, nonce string) string {
	return b64.EncodeToString(mac(s.keys.csrf, scope, nonce))
}

func (s *server) validCSRF(r *http.Request, scope, nonce string) bool {
	got := r.PostFormValue("csrf")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	want := s.csrfToken(scope, nonce)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// loginNonce returns the pre-log-in nonce from its cookie, setting a new
// one when missing, so that the log-in form has a CSRF token too (a forged
// log-in would otherwise put a victim into the attacker's account).
func (s *server) loginNonce(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(s.cookies.login); err == nil && len(c.Value) == 32 {
		if _, err := hex.DecodeString(c.Value); err == nil {
			return c.Value
		}
	}
	n := randomHex(16)
	s.cookies.set(w, s.cookies.login, n, time.Hour)
	return n
}

// setFlash leaves a one-time message for the next page, signed so nobody
// else can put words in the panel's mouth.
func (s *server) setFlash(w http.ResponseWriter, msg string) {
	v := b64.EncodeToString([]byte(msg)) + "." + b64.EncodeToString(mac(s.keys.flash, msg))
	s.cookies.set(w, s.cookies.flash, v, time.Minute)
}

// takeFlash reads and clears the flash message.
func (s *server) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(s.cookies.flash)
	if err != nil {
		return ""
	}
	s.cookies.clear(w, s.cookies.flash)
	m64, sig64, _ := strings.Cut(c.Value, ".")
	msg, err1 := b64.DecodeString(m64)
	sig, err2 := b64.DecodeString(sig64)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, mac(s.keys.flash, string(msg))) {
		return ""
	}
	return string(msg)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b)
}
