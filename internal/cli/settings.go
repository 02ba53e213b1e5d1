package cli

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/view"
)

// settingsFlags are `settings set`'s flags; only those given change.
type settingsFlags struct {
	publicHost, banner       string
	tlsRequired, hideName    bool
	maxConns, maxIP, maxUser int
}

func settingsCommands() *group {
	return &group{summary: "Show and change the FTP service settings that apply while it runs, on every node.", sub: map[string]any{
		"show": &command{
			usage: "[--json]", summary: "Show the saved live settings (none saved: each server uses its flags).",
			flags: jsonFlag, maxArgs: 0, run: settingsShow,
		},
		"set": &command{
			usage:   "[--public-host IP] [--tls-required=true|false] [--max-connections N] [--max-per-ip N] [--max-per-user N] [--banner TEXT] [--hide-server-name=true|false]",
			summary: "Save live settings; every node applies them as soon as it reads the change (at once on PostgreSQL, within 250 ms on SQLite). Flags not given keep their saved value; a node's own --public-host wins over the saved one.",
			flags: func(fs *flag.FlagSet, in *input) {
				s := &in.settings
				fs.StringVar(&s.publicHost, "public-host", "", "IPv4 address PASV announces (empty: the address each client connected to)")
				fs.BoolVar(&s.tlsRequired, "tls-required", false, "refuse log-in and data transfers without TLS")
				fs.IntVar(&s.maxConns, "max-connections", 0, "connections in all (0: the default)")
				fs.IntVar(&s.maxIP, "max-per-ip", 0, "connections per IP (0: the default)")
				fs.IntVar(&s.maxUser, "max-per-user", 0, "sessions per FTP user (0: the default)")
				fs.StringVar(&s.banner, "banner", "", fmt.Sprintf("greeting FTP clients see on connecting: one line, at most %d characters (empty: the default)", domain.BannerMax))
				fs.BoolVar(&s.hideName, "hide-server-name", false, "keep the name panelftp out of the greeting and the replies")
			},
			maxArgs: 0, run: settingsSet, typedOnly: true,
		},
		"reset": &command{
			usage: "", summary: "Forget the saved live settings: every server goes back to its flags.", maxArgs: 0, run: settingsReset,
		},
	}}
}

func settingsShow(ctx context.Context, in *input) error {
	set, saved, at, err := in.svc.Settings(ctx)
	if err != nil {
		return err
	}
	if in.json {
		type settingsJSON struct {
			Saved          bool    `json:"saved"`
			SavedAt        *string `json:"saved_at"`
			PublicHost     string  `json:"public_host"`
			TLSRequired    bool    `json:"tls_required"`
			MaxConnections int     `json:"max_connections"`
			MaxPerIP       int     `json:"max_per_ip"`
			MaxPerUser     int     `json:"max_per_user"`
			Banner         string  `json:"banner"`
			HideServerName bool    `json:"hide_server_name"`
			Greeting       string  `json:"greeting"`
		}
		return writeJSON(in.env.Stdout, settingsJSON{saved, view.OptionalTime(at), set.PublicHost, set.TLSRequired,
			set.MaxConnections, set.MaxPerIP, set.MaxPerUser, set.Banner, set.HideServerName, set.Greeting()})
	}
	if !saved {
		fmt.Fprintln(in.env.Stdout, "no live settings saved: each server uses its command-line flags")
		return nil
	}
	tw := tabwriter.NewWriter(in.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "saved\t%s\n", whenText(at))
	fmt.Fprintf(tw, "public host\t%s\n", dash(set.PublicHost))
	fmt.Fprintf(tw, "TLS required\t%s\n", yesNo(set.TLSRequired))
	fmt.Fprintf(tw, "max connections\t%s\n", defaultText(set.MaxConnections))
	fmt.Fprintf(tw, "max per IP\t%s\n", defaultText(set.MaxPerIP))
	fmt.Fprintf(tw, "max per user\t%s\n", defaultText(set.MaxPerUser))
	fmt.Fprintf(tw, "greeting\t220 %s\n", set.Greeting())
	fmt.Fprintf(tw, "hide server name\t%s\n", yesNo(set.HideServerName))
	return tw.Flush()
}

func settingsSet(ctx context.Context, in *input) error {
	s := &in.settings
	set, _, _, err := in.svc.Settings(ctx)
	if err != nil {
		return err
	}
	changed := false
	in.fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "public-host":
			set.PublicHost = s.publicHost
		case "tls-required":
			set.TLSRequired = s.tlsRequired
		case "max-connections":
			set.MaxConnections = s.maxConns
		case "max-per-ip":
			set.MaxPerIP = s.maxIP
		case "max-per-user":
			set.MaxPerUser = s.maxUser
		case "banner":
			set.Banner = s.banner
		case "hide-server-name":
			set.HideServerName = s.hideName
		default:
			return
		}
		changed = true
	})
	if !changed {
		return usageErr("nothing to change: give at least one of --public-host, --tls-required, --max-connections, --max-per-ip, --max-per-user, --banner, --hide-server-name")
	}
	if err := in.svc.SaveSettings(ctx, set); err != nil {
		return err
	}
	fmt.Fprintln(in.env.Stdout, "live settings saved; every node applies them at once")
	return nil
}

func settingsReset(ctx context.Context, in *input) error {
	if err := in.svc.ResetSettings(ctx); err != nil {
		return err
	}
	fmt.Fprintln(in.env.Stdout, "live settings forgotten; each server uses its command-line flags again")
	return nil
}

func defaultText(n int) string {
	if n == 0 {
		return "default"
	}
	return fmt.Sprint(n)
}
