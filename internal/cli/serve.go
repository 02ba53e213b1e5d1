package cli

import (
	"context"
	"fmt"
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

func runInit(ctx context.Context, in *input) error {
	what, err := in.env.Init(ctx, in.store)
	if err != nil {
		return err
	}
	if what == "sqlite" {
		what = "SQLite in " + in.store.DataDir
	}
	fmt.Fprintf(in.env.Stdout, "panelftp database ready: %s\n", what)
	return nil
}
