package cli

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/view"
)

func accountAdd(ctx context.Context, in *input) error {
	limit, err := atoiArg("--ftp-limit", in.limit)
	if err != nil {
		return err
	}
	password, err := in.optionalPassword()
	if err != nil {
		return err
	}
	a, err := in.svc.AddAccount(ctx, domain.NewAccount{
		Name: in.args[0], Home: in.home, UID: in.uid, GID: in.gid, FTPLimit: limit, PanelPassword: password,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "account %s created, home %s\n", a.Name, a.Home)
	return nil
}

func accountList(ctx context.Context, in *input) error {
	accounts, err := in.svc.ListAccounts(ctx)
	if err != nil {
		return err
	}
	users, err := in.svc.ListFTPUsers(ctx, "")
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, u := range users {
		count[u.Account]++
	}
	if in.json {
		out := make([]view.Account, 0, len(accounts))
		for _, a := range accounts {
			out = append(out, view.NewAccount(a, count[a.Name]))
		}
		return writeJSON(in.env.Stdout, out)
	}
	tw := tabwriter.NewWriter(in.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tHOME\tUID:GID\tFTP USERS\tENABLED")
	for _, a := range accounts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Home, owner(a), usersOfLimit(count[a.Name], a.FTPLimit), yesNo(a.Enabled))
	}
	return tw.Flush()
}

func accountPassword(ctx context.Context, in *input) error {
	password, err := in.passwordArg(1)
	if err != nil {
		return err
	}
	if err := in.svc.SetAccountPassword(ctx, in.args[0], password); err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "panel password of account %s changed\n", in.args[0])
	return nil
}

func accountLimit(ctx context.Context, in *input) error {
	limit, err := atoiArg("N", in.args[1])
	if err != nil {
		return err
	}
	if err := in.svc.SetFTPLimit(ctx, in.args[0], limit); err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "account %s may now have %s FTP sub-users\n", in.args[0], limitText(limit))
	return nil
}

func accountEnable(ctx context.Context, in *input, enabled bool) error {
	if err := in.svc.SetAccountEnabled(ctx, in.args[0], enabled); err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "account %s %s\n", in.args[0], map[bool]string{true: "enabled", false: "disabled"}[enabled])
	return nil
}

func accountDelete(ctx context.Context, in *input) error {
	if err := in.svc.DeleteAccount(ctx, in.args[0], in.force); err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "account %s deleted (files kept)\n", in.args[0])
	return nil
}

// optionalPassword reads --password or --password-stdin; "" when neither.
func (in *input) optionalPassword() (string, error) {
	switch {
	case in.passwordStdin && in.password != "":
		return "", usageErr("give either --password or --password-stdin, not both")
	case in.passwordStdin:
		return in.readPassword()
	}
	return in.password, nil
}

// passwordArg returns the password given as args[i] ("-" or
// --password-stdin: read standard input).
func (in *input) passwordArg(i int) (string, error) {
	if len(in.args) > i && in.args[i] != "-" {
		if in.passwordStdin {
			return "", usageErr("give the password either as an argument or with --password-stdin, not both")
		}
		return in.args[i], nil
	}
	if len(in.args) <= i && !in.passwordStdin {
		return "", usageErr("missing password: give it as an argument, or \"-\" / --password-stdin to read it from standard input")
	}
	return in.readPassword()
}

// readPassword reads one line from standard input, without its line end.
func (in *input) readPassword() (string, error) {
	line, err := bufio.NewReader(in.env.Stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil {
			return "", fmt.Errorf("reading the password from standard input: nothing was read (%v)", err)
		}
		return "", usageErr("the password read from standard input is empty")
	}
	return line, nil
}

func atoiArg(name, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, &domain.Error{Kind: domain.Invalid, Field: name, Msg: fmt.Sprintf("%s must be a whole number, not %q", name, s)}
	}
	return n, nil
}
