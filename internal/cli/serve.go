package cli

import (
	"context"
	"os"

	"github.com/panelftp/panelftp/internal/config"
)

func runServe(ctx context.Context, in *input) error {
	c := in.serve
	// The demo must start without privileges: port 21 needs root.
	if c.Demo && os.Geteuid() != 0 && !config.Given(in.fs, "ftp-listen", in.env.Getenv) {
		c.FTPListen = ":2121"
	}
	return in.env.Serve(ctx, c)
}
