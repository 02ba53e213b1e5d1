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

func adminAdd(ctx context.Context, in *input) error {
	password, err := in.optionalPassword()
	if err != nil {
		return err
	}
	generated := password == ""
	if generated {
		password = domain.GeneratePassword()
	}
	if err := in.svc.AddAdmin(ctx, in.args[0], password); err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "admin %s created\n", in.args[0])
	if generated {
		fmt.Fprintf(in.env.Stdout, "password: %s\n(shown once: keep it somewhere safe)\n", password)
	}
	return nil
}

func adminList(ctx context.Context, in *input) error {
	admins, err := in.svc.ListAdmins(ctx)
	if err != nil {
		return err
	}
	if in.json {
		type adminJSON struct {
			Name      string `json:"name"`
			CreatedAt string `json:"created_at"`
		}
		out := make([]adminJSON, 0, len(admins))
		for _, a := range admins {
			out = append(out, adminJSON{a.Name, view.Time(a.CreatedAt)})
		}
		return writeJSON(in.env.Stdout, out)
	}
	tw := tabwriter.NewWriter(in.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADMIN\tCREATED")
	for _, a := range admins {
		fmt.Fprintf(tw, "%s\t%s\n", a.Name, whenText(a.CreatedAt))
	}
	return tw.Flush()
}

func adminPassword(ctx context.Context, in *input) error {
	password, err := in.passwordArg(1)
	if err != nil {
		return err
	}
	if err := in.svc.SetAdminPassword(ctx, in.args[0], password); err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "password of admin %s changed\n", in.args[0])
	return nil
}

func adminToken(ctx context.Context, in *input) error {
	expires, err := parseExpiry(in.expires, time.Now())
	if err != nil {
		return err
	}
	t, secret, err := in.svc.CreateAPIToken(ctx, domain.NewAPIToken{Label: in.args[0], Account: in.account, ExpiresAt: expires})
	if err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "API token %s (%s) created for %s, %s; use it as\n  Authorization: Bearer %s\n(the secret is shown once)\n",
		t.ID, t.Name, scopeText(t), expiryText(t.ExpiresAt), secret)
	return nil
}

// parseExpiry reads --expires: a duration from now ("90d", "12h", "2w")
// or an absolute time ("2027-01-31", meaning 00:00 UTC that day, or RFC
// 3339). "" means never.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	days := map[byte]int{'d': 1, 'w': 7}
	if n, err := strconv.Atoi(s[:len(s)-1]); err == nil && n > 0 && days[s[len(s)-1]] > 0 {
		return now.AddDate(0, 0, n*days[s[len(s)-1]]).UTC(), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d).UTC(), nil
	}
	return time.Time{}, &domain.Error{Kind: domain.Invalid, Field: "expires",
		Msg: fmt.Sprintf("--expires %q: give a duration such as 90d, 2w or 12h, or a date such as 2027-01-31", s)}
}

func scopeText(t domain.APIToken) string {
	if t.Account == "" {
		return "every account (administrator)"
	}
	return "account " + t.Account
}

func expiryText(t time.Time) string {
	if t.IsZero() {
		return "never expires"
	}
	return "expires " + t.UTC().Format(time.RFC3339)
}

func adminTokens(ctx context.Context, in *input) error {
	tokens, err := in.svc.ListAPITokens(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	expired := func(t domain.APIToken) bool { return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) }
	if in.json {
		type tokenJSON struct {
			ID        string  `json:"id"`
			Label     string  `json:"name"`    // the label
			Account   *string `json:"account"` // null: an administrator's token
			ExpiresAt *string `json:"expires_at"`
			Expired   bool    `json:"expired"`
			CreatedAt string  `json:"created_at"`
			LastUsed  *string `json:"last_used_at"`
		}
		out := make([]tokenJSON, 0, len(tokens))
		for _, t := range tokens {
			var account *string
			if t.Account != "" {
				account = &t.Account
			}
			out = append(out, tokenJSON{t.ID, t.Name, account, view.OptionalTime(t.ExpiresAt), expired(t),
				view.Time(t.CreatedAt), view.OptionalTime(t.LastUsed)})
		}
		return writeJSON(in.env.Stdout, out)
	}
	tw := tabwriter.NewWriter(in.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLABEL\tSCOPE\tEXPIRES\tCREATED\tLAST USED")
	for _, t := range tokens {
		scope, expires := "admin", whenText(t.ExpiresAt)
		if t.Account != "" {
			scope = "account " + t.Account
		}
		if expired(t) {
			expires += " (expired)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, scope, expires, whenText(t.CreatedAt), whenText(t.LastUsed))
	}
	return tw.Flush()
}

func adminRevoke(ctx context.Context, in *input) error {
	if err := in.svc.DeleteAPIToken(ctx, in.args[0]); err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "API token %s revoked\n", in.args[0])
	return nil
}
