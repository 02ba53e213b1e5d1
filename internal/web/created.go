package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The credentials of a sub-user just added are shown once, on the page
// the Add Account form redirects to, so that a reload does not post the
// form again. They travel in a cookie that lives a minute, sealed with
// AES-GCM under a key derived from the panel secret (any node behind a
// load balancer can open it) and bound to the log-in session, and the
// page that shows them deletes it.

const createdTTL = time.Minute

func (s *server) createdAEAD() cipher.AEAD {
	block, err := aes.NewCipher(s.keys.created) // 32 bytes: AES-256
	if err != nil {
		panic("web: created key: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("web: created key: " + err.Error())
	}
	return aead
}

// setCreated leaves username and password for the next page of rc's
// session.
func (s *server) setCreated(w http.ResponseWriter, rc *reqCtx, username, password string) {
	aead := s.createdAEAD()
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	sealed := aead.Seal(nonce, nonce, []byte(username+"\x00"+password), []byte(rc.sess.Nonce))
	s.cookies.set(w, s.cookies.created, b64.EncodeToString(sealed), createdTTL)
}

// takeCreated reads and deletes the credentials setCreated left, or
// returns nil.
func (s *server) takeCreated(w http.ResponseWriter, r *http.Request, rc *reqCtx) *createdUser {
	c, err := r.Cookie(s.cookies.created)
	if err != nil {
		return nil
	}
	s.cookies.clear(w, s.cookies.created)
	sealed, err := b64.DecodeString(c.Value)
	aead := s.createdAEAD()
	if err != nil || len(sealed) < aead.NonceSize() {
		return nil
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(rc.sess.Nonce))
	if err != nil {
		return nil
	}
	username, password, ok := strings.Cut(string(plain), "\x00")
	if !ok {
		return nil
	}
	return &createdUser{Username: username, Password: password, URL: rc.usersBase() + "/" + url.PathEscape(username)}
}
