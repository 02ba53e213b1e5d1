package cli

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/view"
)

func banCommands() *group {
	return &group{summary: "Manage IP bans of the FTP service and the panel (shared by every node).", sub: map[string]any{
		"list": &command{
			usage: "[--json]", summary: "List IP bans in force.", flags: jsonFlag, maxArgs: 0, run: banList,
		},
		"add": &command{
			usage:   "IP [--for DURATION] [--reason TEXT]",
			summary: "Ban an IP address from FTP and the panel.",
			flags: func(fs *flag.FlagSet, in *input) {
				fs.DurationVar(&in.banFor, "for", 24*time.Hour, "how long, e.g. 30m, 12h")
				fs.StringVar(&in.reason, "reason", "banned by an administrator", "why (shown in ban list)")
				config.BindSafeList(fs, &in.bans.SafeList)
			},
			minArgs: 1, maxArgs: 1, run: banAdd,
		},
		"remove": &command{
			usage: "IP", summary: "Lift the ban of an IP address.", minArgs: 1, maxArgs: 1, run: banRemove,
		},
	}}
}

func banList(ctx context.Context, in *input) error {
	bans, err := in.svc.ListBans(ctx)
	if err != nil {
		return err
	}
	if in.json {
		type banJSON struct {
			IP     string `json:"ip"`
			Until  string `json:"until"`
			Count  int    `json:"count"`
			Reason string `json:"reason"`
			At     string `json:"banned_at"`
		}
		out := make([]banJSON, 0, len(bans))
		for _, b := range bans {
			out = append(out, banJSON{b.IP, view.Time(b.Until), b.Count, b.Reason, view.Time(b.At)})
		}
		return writeJSON(in.env.Stdout, out)
	}
	if len(bans) == 0 {
		fmt.Fprintln(in.env.Stdout, "no IP is banned")
		return nil
	}
	tw := tabwriter.NewWriter(in.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IP\tUNTIL\tTIMES\tREASON")
	for _, b := range bans {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", b.IP, whenText(b.Until), b.Count, b.Reason)
	}
	return tw.Flush()
}

func banAdd(ctx context.Context, in *input) error {
	b, err := in.svc.AddBan(ctx, in.args[0], in.banFor, in.reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "%s banned until %s\n", b.IP, whenText(b.Until))
	return nil
}

func banRemove(ctx context.Context, in *input) error {
	if err := in.svc.RemoveBan(ctx, in.args[0]); err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "ban of %s lifted\n", in.args[0])
	return nil
}
