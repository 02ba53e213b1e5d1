package app

import (
	"github.com/panelftp/panelftp/internal/api"
	"github.com/panelftp/panelftp/internal/cli"
	"github.com/panelftp/panelftp/internal/ftpd"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/web"
)

// Each edge declares the part of the service it uses, in its own terms;
// the one service implements them all.
var (
	_ cli.Service        = (*service.Service)(nil)
	_ web.Service        = (*service.Service)(nil)
	_ api.Service        = (*service.Service)(nil)
	_ ftpd.Authenticator = (*service.Service)(nil)
	_ ftpd.ExpiryReader  = (*service.Service)(nil) // found by assertion at log-in
)
