package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main runs a measuring program as all of them run: parse reads the
// flags (-h prints the usage and exits 0; a wrong flag exits 2 with the
// error), then run works until it is done or SIGINT or SIGTERM ends its
// context, and its result is the exit status.
func Main[O any](name string, parse func(args []string, stderr io.Writer) (O, error), run func(ctx context.Context, o O) int) {
	o, err := parse(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, o)
	stop()
	os.Exit(code)
}
