package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"

	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/version"
)

// commands is the whole command tree.
func commands() *group {
	return &group{
		summary: "panelftp runs the shared, jailed FTP service of a hosting server and manages its accounts and FTP sub-users.",
		sub: map[string]any{
			"serve": &command{
				usage: "[flags]", summary: "Run the FTP service and the web panel.",
				maxArgs: 0, noStore: true, run: runServe,
			},
			"version": &command{
				usage: "", summary: "Print panelftp's version, the commit it was built from and its Go version (also: panelftp --version).",
				maxArgs: 0, bare: true, run: func(_ context.Context, in *input) error {
					_, err := fmt.Fprintln(in.env.Stdout, version.Get())
					return err
				},
			},
			"init": &command{
				usage: "[--data DIR] [--db URL]", summary: "Create the database (or bring it up to date) and record it in the data directory; serve does the same at start.",
				maxArgs: 0, ownStore: true, run: runInit,
			},
			"account": &group{summary: "Manage hosting accounts.", sub: map[string]any{
				"add": &command{
					usage:   "NAME --home DIR --uid N --gid N [--ftp-limit N] [--password P | --password-stdin] [--allow-root-owner]",
					summary: "Create a hosting account (its home directory is created if missing, mode --home-mode, owned by the account). Homes may not overlap nor be system folders; uid and gid 0 need --allow-root-owner.",
					flags: func(fs *flag.FlagSet, in *input) {
						fs.StringVar(&in.home, "home", "", "home directory, an absolute path (required)")
						in.uid, in.gid = domain.NoID, domain.NoID
						fs.Var(ownerID{&in.uid}, "uid", "uid `N` the account's FTP users act as, owner of its files; required when run as root (-1: the server's own)")
						fs.Var(ownerID{&in.gid}, "gid", "gid `N` the account's FTP users act as (-1: the server's own)")
						fs.StringVar(&in.limit, "ftp-limit", "0", "maximum FTP sub-users, 0 = unlimited")
						passwordFlags(fs, in)
						config.BindHomes(fs, &in.homes)
					},
					minArgs: 1, maxArgs: 1, run: accountAdd,
				},
				"list": &command{
					usage: "[--json]", summary: "List hosting accounts.",
					flags: jsonFlag, maxArgs: 0, run: accountList,
				},
				"password": &command{
					usage:   "NAME (PASSWORD | - | --password-stdin)",
					summary: "Set the web panel password of an account (\"-\" reads it from standard input).",
					flags: func(fs *flag.FlagSet, in *input) {
						fs.BoolVar(&in.passwordStdin, "password-stdin", false, "read the password from standard input")
					},
					minArgs: 1, maxArgs: 2, run: accountPassword,
				},
				"limit": &command{
					usage: "NAME N", summary: "Set the maximum number of FTP sub-users of an account (0 = unlimited).",
					minArgs: 2, maxArgs: 2, run: accountLimit,
				},
				"enable": &command{
					usage: "NAME", summary: "Allow the account's FTP sub-users and panel to log in again.",
					minArgs: 1, maxArgs: 1, run: func(ctx context.Context, in *input) error { return accountEnable(ctx, in, true) },
				},
				"disable": &command{
					usage: "NAME", summary: "Refuse the account's log-ins and disconnect its FTP sessions (nothing is deleted).",
					minArgs: 1, maxArgs: 1, run: func(ctx context.Context, in *input) error { return accountEnable(ctx, in, false) },
				},
				"delete": &command{
					usage:   "NAME [--force]",
					summary: "Delete an account from panelftp; refuses while it has FTP sub-users unless --force. Never deletes files.",
					flags: func(fs *flag.FlagSet, in *input) {
						fs.BoolVar(&in.force, "force", false, "also delete its FTP sub-users (their files are kept)")
					},
					minArgs: 1, maxArgs: 1, run: accountDelete,
				},
			}},
			"ftp": &group{summary: "Manage FTP sub-users and their live sessions.", sub: map[string]any{
				"add": &command{
					usage:   "USERNAME PASSWORD FOLDER ACCOUNT [--quota MB]",
					summary: "Create an FTP sub-user USERNAME (<name>.<account>) locked into FOLDER of the account's home. PASSWORD \"-\" reads it from standard input.",
					flags: func(fs *flag.FlagSet, in *input) {
						fs.Int64Var(&in.quota, "quota", 0, "upload quota in MB, 0 = unlimited")
						config.BindHomes(fs, &in.homes)
					},
					minArgs: 4, maxArgs: 4, run: ftpAdd,
				},
				"list": &command{
					usage: "[ACCOUNT] [--json]", summary: "List FTP sub-users, of one account or all.",
					flags: jsonFlag, maxArgs: 1, run: ftpList,
				},
				"password": &command{
					usage:   "USERNAME NEWPASSWORD ACCOUNT",
					summary: "Change an FTP sub-user's password (\"-\" reads it from standard input); its live sessions are disconnected.",
					minArgs: 3, maxArgs: 3, run: ftpPassword,
				},
				"path": &command{
					usage:   "USERNAME PATH ACCOUNT",
					summary: "Change the folder an FTP sub-user is locked into (created if missing); its live sessions are disconnected.",
					flags:   func(fs *flag.FlagSet, in *input) { config.BindHomes(fs, &in.homes) },
					minArgs: 3, maxArgs: 3, run: ftpPath,
				},
				"quota": &command{
					usage: "USERNAME MB ACCOUNT", summary: "Set an FTP sub-user's upload quota in MB (0 = unlimited); the same as ftp set --quota.",
					minArgs: 3, maxArgs: 3, run: ftpQuota,
				},
				"set": &command{
					usage: "USERNAME ACCOUNT [--quota MB] [--max-files N] [--upload-kbps N] [--download-kbps N] [--allow-ip CIDR,...] " +
						"[--deny-ip CIDR,...] [--read-only=BOOL] [--tls-required=BOOL] [--expires YYYY-MM-DD|never] [--max-sessions N]",
					summary: "Change an FTP sub-user's limits and access rules; only the flags given change (0 or empty: no limit). " +
						"A stricter rule disconnects its live sessions so it applies at once.",
					flags:   func(fs *flag.FlagSet, in *input) { in.controls.bind(fs) },
					minArgs: 2, maxArgs: 2, run: ftpSet, typedOnly: true,
				},
				"enable": &command{
					usage: "USERNAME ACCOUNT", summary: "Allow an FTP sub-user to log in again.",
					minArgs: 2, maxArgs: 2, run: func(ctx context.Context, in *input) error { return ftpEnable(ctx, in, true) },
				},
				"disable": &command{
					usage: "USERNAME ACCOUNT", summary: "Refuse an FTP sub-user's log-ins and disconnect its sessions (nothing is deleted).",
					minArgs: 2, maxArgs: 2, run: func(ctx context.Context, in *input) error { return ftpEnable(ctx, in, false) },
				},
				"delete": &command{
					usage: "USERNAME ACCOUNT", summary: "Delete an FTP sub-user and disconnect its sessions. Its files are kept.",
					minArgs: 2, maxArgs: 2, run: ftpDelete,
				},
				"connections": &command{
					usage: "[ACCOUNT] [--json]", summary: "List live FTP sessions on every node sharing this data directory or database.",
					flags: jsonFlag, maxArgs: 1, run: ftpConnections,
				},
				"kick": &command{
					usage: "SESSION_ID", summary: "Disconnect a live FTP session (control and data connection) on whichever node serves it.",
					minArgs: 1, maxArgs: 1, run: ftpKick,
				},
			}},
			"ban":      banCommands(),
			"settings": settingsCommands(),
			"admin": &group{summary: "Manage web panel administrators and API tokens.", sub: map[string]any{
				"add": &command{
					usage: "NAME [--password P | --password-stdin]", summary: "Create a web panel administrator (a password is generated and printed if none is given).",
					flags: passwordFlags, minArgs: 1, maxArgs: 1, run: adminAdd,
				},
				"list": &command{
					usage: "[--json]", summary: "List administrators.", flags: jsonFlag, maxArgs: 0, run: adminList,
				},
				"password": &command{
					usage: "NAME (PASSWORD | - | --password-stdin)", summary: "Set an administrator's password.",
					flags: func(fs *flag.FlagSet, in *input) {
						fs.BoolVar(&in.passwordStdin, "password-stdin", false, "read the password from standard input")
					},
					minArgs: 1, maxArgs: 2, run: adminPassword,
				},
				"token": &command{
					usage: "LABEL [--account NAME] [--expires 90d|2027-01-31]",
					summary: "Create an API bearer token; its secret is printed once. LABEL says what the token is for (e.g. billing); it names no administrator. " +
						"Without --account the token administers everything; with it, it reaches only that account's FTP users and connections.",
					flags: func(fs *flag.FlagSet, in *input) {
						fs.StringVar(&in.account, "account", "", "limit the token to this account's routes (default: an administrator's token)")
						fs.StringVar(&in.expires, "expires", "", "when the token stops working: a duration such as 90d, 2w or 12h, or a date such as 2027-01-31 (default: never)")
					},
					minArgs: 1, maxArgs: 1, run: adminToken,
				},
				"tokens": &command{
					usage: "[--json]", summary: "List API tokens with their scope and expiry (not their secrets).", flags: jsonFlag, maxArgs: 0, run: adminTokens,
				},
				"revoke": &command{
					usage: "TOKEN_ID", summary: "Revoke an API token.", minArgs: 1, maxArgs: 1, run: adminRevoke,
				},
			}},
		},
	}
}

func jsonFlag(fs *flag.FlagSet, in *input) {
	fs.BoolVar(&in.json, "json", false, "print JSON")
}

func passwordFlags(fs *flag.FlagSet, in *input) {
	fs.StringVar(&in.password, "password", "", "password (visible to other users of this machine: prefer --password-stdin)")
	fs.BoolVar(&in.passwordStdin, "password-stdin", false, "read the password from standard input")
}

// ownerID is the --uid or --gid flag: a number, 0 or more, or -1 for the
// server's own (domain.NoID, also the default, which the help therefore
// leaves out: its text says it).
type ownerID struct{ id *int }

func (o ownerID) String() string {
	if o.id == nil || *o.id == domain.NoID {
		return ""
	}
	return strconv.Itoa(*o.id)
}

func (o ownerID) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < domain.NoID {
		return fmt.Errorf("%q is not a uid or gid: give a number, 0 or more (-1: the server's own)", s)
	}
	*o.id = n
	return nil
}
