// Package service holds panelftp's use cases and is the one place every
// rule of the brief is enforced. Its files follow the aggregates: accounts
// and their homes, FTP sub-users and their controls, FTP and panel
// log-ins, administrators and API tokens, bans, live settings and live
// sessions. The CLI, the web panel, the API and the FTP service each
// declare the small interfaces they use of it, and the composition root
// hands them the one *Service. It knows nothing of flags, HTTP or FTP.
package service

import (
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// Options configure a Service. The zero value of each field is its default.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives audit lines for every change (default slog.Default()).
	Logger *slog.Logger
	// ChownAllowed says whether folders created for an account may be
	// given to its uid/gid, and whether the server acts as root for the
	// owner rule (see HomeOptions.AllowRootOwner); default: only when
	// running as root.
	ChownAllowed *bool
	// LoginCache, when set, makes repeat FTP log-ins with the same
	// credentials skip the argon2id check for a short time.
	LoginCache *auth.VerifyCache
	// Homes are the rules for account homes and the modes of what the
	// service creates in them.
	Homes HomeOptions
	// OnLogin, when set, receives the result of every FTP log-in attempt
	// (LoginResult), for the metrics.
	OnLogin func(result string)
	// Bans keeps the IP bans that administrators put and lift; without
	// it the ban use cases fail.
	Bans Bans
}

// Service is the use-case layer. It is safe for concurrent use.
type Service struct {
	store   store.Store
	hasher  *auth.Hasher
	now     func() time.Time
	log     *slog.Logger
	chown   bool
	cache   *auth.VerifyCache
	homes   HomeOptions
	onLogin func(result string)
	bans    Bans
}

// New returns a Service on st that hashes with h.
func New(st store.Store, h *auth.Hasher, opts Options) *Service {
	s := &Service{store: st, hasher: h, now: opts.Now, log: opts.Logger, chown: os.Geteuid() == 0, cache: opts.LoginCache,
		homes: opts.Homes.withDefaults(), onLogin: opts.OnLogin, bans: opts.Bans}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if opts.ChownAllowed != nil {
		s.chown = *opts.ChownAllowed
	}
	return s
}

// Now is the service's clock, for the edges that show time-dependent
// state (whether a sub-user has expired) the way the service decides it.
func (s *Service) Now() time.Time { return s.now() }

func isNotFound(err error) bool { return errors.Is(err, domain.ErrNotFound) }
