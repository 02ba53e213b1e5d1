package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/view"
)

func ftpAdd(ctx context.Context, in *input) error {
	password, err := in.passwordArg(1)
	if err != nil {
		return err
	}
	u, err := in.svc.AddFTPUser(ctx, domain.NewFTPUser{
		Username: in.args[0], Password: password, Path: in.args[2], Account: in.args[3], QuotaMB: in.quota,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "FTP user %s created, locked into %s\n", u.Username, u.Path)
	return nil
}

func ftpList(ctx context.Context, in *input) error {
	account := ""
	if len(in.args) == 1 {
		account = in.args[0]
	}
	users, err := in.svc.ListFTPUsers(ctx, account)
	if err != nil {
		return err
	}
	accounts, err := in.accountsByName(ctx)
	if err != nil {
		return err
	}
	now := in.svc.Now()
	if in.json {
		out := make([]view.FTPUser, 0, len(users))
		for _, u := range users {
			out = append(out, view.NewFTPUser(u, accounts[u.Account], now))
		}
		return writeJSON(in.env.Stdout, out)
	}
	tw := tabwriter.NewWriter(in.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tACCOUNT\tPATH\tDIRECTORY\tQUOTA\tSTATUS\tLAST LOGIN\tCONTROLS")
	for _, u := range users {
		quota := "unlimited"
		if u.QuotaMB > 0 {
			quota = fmt.Sprintf("%d MB", u.QuotaMB)
		}
		last := whenText(u.LastLoginAt)
		if u.LastLoginIP != "" {
			last += " from " + u.LastLoginIP
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.Account, u.Path, u.Directory(accounts[u.Account].Home),
			quota, statusText(u, now), last, orText(strings.Join(controlsText(u, now, true), "; "), "-"))
	}
	return tw.Flush()
}

// statusText is whether u may log in: enabled, disabled or expired.
func statusText(u domain.FTPUser, now time.Time) string {
	switch {
	case !u.Enabled:
		return "disabled"
	case u.Expired(now):
		return "expired"
	}
	return "enabled"
}

func (in *input) accountsByName(ctx context.Context) (map[string]domain.Account, error) {
	list, err := in.svc.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]domain.Account, len(list))
	for _, a := range list {
		m[a.Name] = a
	}
	return m, nil
}

func ftpPassword(ctx context.Context, in *input) error {
	password, err := in.passwordArg(1)
	if err != nil {
		return err
	}
	if err := in.svc.ChangeFTPPassword(ctx, in.args[2], in.args[0], password); err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "password of FTP user %s changed; its live sessions are disconnected\n", domain.Lower(in.args[0]))
	return nil
}

func ftpPath(ctx context.Context, in *input) error {
	if err := in.svc.ChangeFTPPath(ctx, in.args[2], in.args[0], in.args[1]); err != nil {
		return err
	}
	u, err := in.svc.GetFTPUser(ctx, in.args[2], in.args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "FTP user %s is now locked into %s; its live sessions are disconnected\n", u.Username, u.Path)
	return nil
}

func ftpQuota(ctx context.Context, in *input) error {
	mb, err := strconv.ParseInt(in.args[1], 10, 64)
	if err != nil {
		return &domain.Error{Kind: domain.Invalid, Field: "quota", Msg: fmt.Sprintf("quota must be a whole number of MB, not %q", in.args[1])}
	}
	if err := in.svc.SetFTPQuota(ctx, in.args[2], in.args[0], mb); err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "quota of FTP user %s set to %s\n", domain.Lower(in.args[0]), map[bool]string{true: "unlimited", false: in.args[1] + " MB"}[mb == 0])
	return nil
}

func ftpEnable(ctx context.Context, in *input, enabled bool) error {
	if err := in.svc.SetFTPUserEnabled(ctx, in.args[1], in.args[0], enabled); err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "FTP user %s %s\n", domain.Lower(in.args[0]), map[bool]string{true: "enabled", false: "disabled"}[enabled])
	return nil
}

func ftpDelete(ctx context.Context, in *input) error {
	if err := in.svc.DeleteFTPUser(ctx, in.args[1], in.args[0]); err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "FTP user %s deleted (its files are kept)\n", domain.Lower(in.args[0]))
	return nil
}

func ftpConnections(ctx context.Context, in *input) error {
	account := ""
	if len(in.args) == 1 {
		account = in.args[0]
	}
	list, err := in.svc.ListSessions(ctx, account)
	if err != nil {
		return err
	}
	if in.json {
		out := make([]view.Session, 0, len(list))
		for _, s := range list {
			out = append(out, view.NewSession(s))
		}
		return writeJSON(in.env.Stdout, out)
	}
	if len(list) == 0 {
		fmt.Fprintln(in.env.Stdout, "no live FTP sessions")
		return nil
	}
	tw := tabwriter.NewWriter(in.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tFROM\tCLIENT\tTLS\tSINCE\tIDLE\tACTIVITY\tUP/DOWN")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s/%s\n", s.ID, dash(s.Username), s.RemoteAddr, dash(s.Client),
			yesNo(s.TLSControl), whenText(s.ConnectedAt), time.Since(s.LastActivity).Round(time.Second),
			activityText(s), bytesText(s.BytesUp), bytesText(s.BytesDown))
	}
	return tw.Flush()
}

func activityText(s domain.Session) string {
	switch s.Activity {
	case domain.ActivityUpload, domain.ActivityDownload:
		done := bytesText(s.BytesDone)
		if s.BytesTotal > 0 {
			done += " of " + bytesText(s.BytesTotal)
		}
		return fmt.Sprintf("%s %s (%s, %s/s)", s.Activity, s.File, done, bytesText(s.Speed))
	case domain.ActivityListing:
		return "listing " + s.File
	}
	return "idle"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ftpKick asks the serving node to end the session, then waits up to a few
// seconds to confirm it is gone.
func ftpKick(ctx context.Context, in *input) error {
	id := in.args[0]
	if err := in.svc.Kick(ctx, "", id); err != nil {
		return err
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		list, err := in.svc.ListSessions(ctx, "")
		if err != nil {
			return err
		}
		if !hasSession(list, id) {
			fmt.Fprintf(in.env.Stdout, "session %s disconnected\n", id)
			return nil
		}
	}
	fmt.Fprintf(in.env.Stdout, "disconnect of session %s requested; its node has not confirmed yet\n", id)
	return nil
}

func hasSession(list []domain.Session, id string) bool {
	for _, s := range list {
		if s.ID == id {
			return true
		}
	}
	return false
}
