package cli

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
)

func ftpAdd(ctx context.Context, in *input) error {
	password, err := in.passwordArg(1)
	if err != nil {
		return err
	}
	u, err := in.svc.AddFTPUser(ctx, service.NewFTPUser{
		Username: in.args[0], Password: password, Path: in.args[2], Account: in.args[3], QuotaMB: in.quota,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "FTP user %s created, locked into %s\n", u.Username, u.Path)
	return nil
}

// ftpUserJSON is the --json shape of an FTP sub-user.
type ftpUserJSON struct {
	Account     string  `json:"account"`
	Username    string  `json:"username"`
	Path        string  `json:"path"`
	Directory   string  `json:"directory"`
	UID         *int    `json:"uid"`
	GID         *int    `json:"gid"`
	QuotaMB     int64   `json:"quota_mb"`
	Enabled     bool    `json:"enabled"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	LastLoginAt *string `json:"last_login_at"`
	LastLoginIP string  `json:"last_login_ip"`
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
	if in.json {
		out := make([]ftpUserJSON, 0, len(users))
		for _, u := range users {
			a := accounts[u.Account]
			out = append(out, ftpUserJSON{
				Account: u.Account, Username: u.Username, Path: u.Path, Directory: u.Directory(a.Home),
				UID: optionalID(a.UID), GID: optionalID(a.GID), QuotaMB: u.QuotaMB, Enabled: u.Enabled,
				CreatedAt: timeJSON(u.CreatedAt), UpdatedAt: timeJSON(u.UpdatedAt),
				LastLoginAt: optionalTimeJSON(u.LastLoginAt), LastLoginIP: u.LastLoginIP,
			})
		}
		return writeJSON(in.env.Stdout, out)
	}
	tw := tabwriter.NewWriter(in.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tACCOUNT\tPATH\tDIRECTORY\tQUOTA\tENABLED\tLAST LOGIN")
	for _, u := range users {
		quota := "unlimited"
		if u.QuotaMB > 0 {
			quota = fmt.Sprintf("%d MB", u.QuotaMB)
		}
		last := whenText(u.LastLoginAt)
		if u.LastLoginIP != "" {
			last += " from " + u.LastLoginIP
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.Account, u.Path, u.Directory(accounts[u.Account].Home), quota, yesNo(u.Enabled), last)
	}
	return tw.Flush()
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

// sessionJSON is the --json shape of a live session.
type sessionJSON struct {
	ID           string `json:"id"`
	Node         string `json:"node"`
	Username     string `json:"username"`
	Account      string `json:"account"`
	RemoteAddr   string `json:"remote_addr"`
	Client       string `json:"client"`
	TLSControl   bool   `json:"tls_control"`
	TLSData      bool   `json:"tls_data"`
	ConnectedAt  string `json:"connected_at"`
	LastActivity string `json:"last_activity"`
	Activity     string `json:"activity"`
	File         string `json:"file"`
	BytesDone    int64  `json:"bytes_done"`
	BytesTotal   int64  `json:"bytes_total"`
	Speed        int64  `json:"speed"`
	BytesUp      int64  `json:"bytes_up"`
	BytesDown    int64  `json:"bytes_down"`
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
		out := make([]sessionJSON, 0, len(list))
		for _, s := range list {
			out = append(out, sessionJSON{
				ID: s.ID, Node: s.Node, Username: s.Username, Account: s.Account, RemoteAddr: s.RemoteAddr,
				Client: s.Client, TLSControl: s.TLSControl, TLSData: s.TLSData,
				ConnectedAt: timeJSON(s.ConnectedAt), LastActivity: timeJSON(s.LastActivity),
				Activity: string(s.Activity), File: s.File, BytesDone: s.BytesDone, BytesTotal: s.BytesTotal,
				Speed: s.Speed, BytesUp: s.BytesUp, BytesDown: s.BytesDown,
			})
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
