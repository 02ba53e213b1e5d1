// Package cli is the administrator's command line, modelled on OpenPanel's
// `opencli ftp-*` commands. Each command parses its flags and arguments,
// calls the service, and prints the result; rules live in the service.
//
// Exit status: 0 success, 1 refused or failed (message on stderr, nothing
// changed), 2 wrong usage.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/domain"
)

// Env is what the commands need from the outside world.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Open opens the existing store s names and returns the service on it,
	// with the home rules h and the ban settings b, and a function that
	// closes the store.
	Open func(ctx context.Context, s config.Store, h config.Homes, b config.Bans) (Service, func() error, error)
	// Init creates the store s names (or upgrades it) and returns how it
	// is named.
	Init func(ctx context.Context, s config.Store) (string, error)
	// Serve runs `panelftp serve` until ctx ends.
	Serve func(ctx context.Context, c config.Serve) error
	// EnvFile is an environment file whose PANELFTP_* variables apply
	// where Getenv has none (see config.ReadEnvFile); "" reads none.
	EnvFile string
}

// command is one leaf of the command tree.
type command struct {
	usage   string // arguments after the command path
	summary string
	// flags defines the command's own flags (besides --data and --db).
	flags func(fs *flag.FlagSet, in *input)
	// args is the number of positional arguments: min and max (-1 = any).
	minArgs, maxArgs int
	run              func(ctx context.Context, in *input) error
	// noStore: the command does not open the store (serve opens its own).
	noStore bool
	// typedOnly: the command's own flags come from the command line only,
	// never from PANELFTP_* variables, so that a variable exported for
	// serve (PANELFTP_TLS_REQUIRED, say) cannot change a user or a live
	// setting by accident. --data and --db still do.
	typedOnly bool
	// bare: the command has no flags of its own and needs no settings.
	bare bool
	// ownStore: the command takes --data and --db but opens the store
	// itself (init creates it).
	ownStore bool
}

// input is a parsed invocation handed to a command.
type input struct {
	env   Env
	args  []string
	store config.Store
	homes config.Homes
	bans  config.Bans
	svc   Service
	fs    *flag.FlagSet
	// flag values commands may bind
	json, force, passwordStdin bool
	password, home, limit      string
	uid, gid                   int
	quota                      int64
	settings                   settingsFlags
	controls                   controlFlags
	banFor                     time.Duration
	reason                     string
	account, expires           string // admin token
	serve                      config.Serve
}

// errUsage marks a wrong invocation (exit 2).
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usageErr(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

// Run runs the command line args (without the program name) and returns
// the exit status.
func Run(ctx context.Context, env Env, args []string) int {
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-version") {
		args = []string{"version"}
	}
	tree := commands()
	path, cmd, rest := lookup(tree, args)
	if cmd == nil {
		return printGroupHelp(env, tree, path, rest)
	}
	in := &input{env: env, homes: config.DefaultHomes()}
	fs := flag.NewFlagSet("panelftp "+strings.Join(path, " "), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	in.fs = fs
	switch {
	case cmd.bare:
	case cmd.noStore:
		config.BindServe(fs, &in.serve)
	default:
		config.BindStore(fs, &in.store)
	}
	if cmd.flags != nil {
		cmd.flags(fs, in)
	}
	pos, err := parseInterspersed(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(env.Stdout, fs, path, cmd)
		return 0
	}
	if err == nil && !cmd.bare && env.EnvFile != "" {
		vars, fileErr := config.ReadEnvFile(env.EnvFile)
		if fileErr != nil {
			fmt.Fprintf(env.Stderr, "panelftp %s: %v\n", strings.Join(path, " "), fileErr)
			return 1
		}
		in.env.Getenv = config.WithFile(env.Getenv, vars)
	}
	if err == nil {
		getenv := in.env.Getenv
		if cmd.typedOnly {
			getenv = storeEnvOnly(getenv)
		}
		err = config.ApplyEnv(fs, getenv)
	}
	if err == nil && (len(pos) < cmd.minArgs || (cmd.maxArgs >= 0 && len(pos) > cmd.maxArgs)) {
		err = usageErr("wrong number of arguments")
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "panelftp %s: %v\n", strings.Join(path, " "), err)
		fmt.Fprintf(env.Stderr, "usage: panelftp %s %s\nrun 'panelftp %s --help' for details\n", strings.Join(path, " "), cmd.usage, strings.Join(path, " "))
		return 2
	}
	in.args = pos
	return finish(env, path, execute(ctx, cmd, in))
}

// storeEnvOnly passes on the variables of --data, --db and --db-pool only.
func storeEnvOnly(getenv func(string) string) func(string) string {
	return func(name string) string {
		if name == config.EnvName("data") || name == config.EnvName("db") || name == config.EnvName("db-pool") {
			return getenv(name)
		}
		return ""
	}
}

func execute(ctx context.Context, cmd *command, in *input) error {
	if cmd.noStore || cmd.bare || cmd.ownStore {
		return cmd.run(ctx, in)
	}
	if err := in.homes.Validate(); err != nil {
		return usageErr("%v", err)
	}
	svc, closeStore, err := in.env.Open(ctx, in.store, in.homes, in.bans)
	if err != nil {
		return err
	}
	defer closeStore()
	in.svc = svc
	return cmd.run(ctx, in)
}

func finish(env Env, path []string, err error) int {
	if err == nil {
		return 0
	}
	var ue errUsage
	if errors.As(err, &ue) {
		fmt.Fprintf(env.Stderr, "panelftp %s: %v\n", strings.Join(path, " "), err)
		return 2
	}
	if refusals := domain.Refusals(err); len(refusals) > 1 {
		for _, r := range refusals { // every field at fault, one a line
			fmt.Fprintf(env.Stderr, "error: %s\n", r.Msg)
		}
	} else if len(refusals) == 1 {
		fmt.Fprintf(env.Stderr, "error: %v\n", err)
	} else {
		fmt.Fprintf(env.Stderr, "panelftp %s failed: %v\n", strings.Join(path, " "), err)
	}
	return 1
}

// parseInterspersed lets flags come after positional arguments, as in
// `panelftp ftp add dev.bob - /site bob --quota 500`. A negative number
// is an argument, not a flag: `ftp quota dev.bob -1 bob` reaches the
// command, which says what the number may be.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		for len(args) > 0 && isNegativeNumber(args[0]) {
			pos, args = append(pos, args[0]), args[1:]
		}
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at the first non-flag, or after "--": everything
		// after a "--" is positional.
		if consumedDashDash(args, rest) {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func isNegativeNumber(arg string) bool {
	if len(arg) < 2 || arg[0] != '-' {
		return false
	}
	for _, c := range arg[1:] {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

func consumedDashDash(args, rest []string) bool {
	i := len(args) - len(rest) - 1
	return i >= 0 && args[i] == "--"
}

// group is an inner node of the command tree.
type group struct {
	summary string
	sub     map[string]any // *command or *group
}

func lookup(g *group, args []string) (path []string, cmd *command, rest []string) {
	node := any(g)
	for len(args) > 0 {
		gg, ok := node.(*group)
		if !ok {
			break
		}
		next, ok := gg.sub[args[0]]
		if !ok {
			break
		}
		path, node, args = append(path, args[0]), next, args[1:]
	}
	if c, ok := node.(*command); ok {
		return path, c, args
	}
	return path, nil, args
}

func printGroupHelp(env Env, tree *group, path, rest []string) int {
	_, node, _ := lookup(tree, path)
	g := tree
	if node == nil {
		cur := any(tree)
		for _, p := range path {
			cur = cur.(*group).sub[p]
		}
		g = cur.(*group)
	}
	out, status := env.Stderr, 2
	if len(rest) > 0 && (rest[0] == "--help" || rest[0] == "-h" || rest[0] == "help") {
		out, status = env.Stdout, 0
	} else if len(rest) > 0 {
		fmt.Fprintf(out, "panelftp: unknown command %q\n\n", strings.Join(append(path, rest[0]), " "))
	}
	prefix := strings.TrimSpace("panelftp " + strings.Join(path, " "))
	fmt.Fprintf(out, "usage: %s COMMAND [flags] [arguments]\n\n%s\n\ncommands:\n", prefix, g.summary)
	names := make([]string, 0, len(g.sub))
	for n := range g.sub {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		switch c := g.sub[n].(type) {
		case *command:
			fmt.Fprintf(out, "  %-12s %s\n", n, c.summary)
		case *group:
			fmt.Fprintf(out, "  %-12s %s\n", n, c.summary)
		}
	}
	fmt.Fprintf(out, "\nrun '%s COMMAND --help' for details\n", prefix)
	return status
}

func printCommandHelp(w io.Writer, fs *flag.FlagSet, path []string, cmd *command) {
	fmt.Fprintf(w, "usage: panelftp %s %s\n\n%s\n", strings.Join(path, " "), cmd.usage, cmd.summary)
	if cmd.bare {
		return
	}
	fmt.Fprintf(w, "\nflags (-flag and --flag both work; each is also an environment variable PANELFTP_<FLAG>,\n"+
		"read from %s too):\n", config.DefaultEnvFile)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
