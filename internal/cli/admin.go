package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

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
	t, secret, err := in.svc.CreateAPIToken(ctx, in.args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(in.env.Stdout, "API token %s (%s) created; use it as\n  Authorization: Bearer %s\n(the secret is shown once)\n", t.ID, t.Name, secret)
	return nil
}

func adminTokens(ctx context.Context, in *input) error {
	tokens, err := in.svc.ListAPITokens(ctx)
	if err != nil {
		return err
	}
	if in.json {
		type tokenJSON struct {
			ID        string  `json:"id"`
			Name      string  `json:"name"`
			CreatedAt string  `json:"created_at"`
			LastUsed  *string `json:"last_used_at"`
		}
		out := make([]tokenJSON, 0, len(tokens))
		for _, t := range tokens {
			out = append(out, tokenJSON{t.ID, t.Name, view.Time(t.CreatedAt), view.OptionalTime(t.LastUsed)})
		}
		return writeJSON(in.env.Stdout, out)
	}
	tw := tabwriter.NewWriter(in.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED\tLAST USED")
	for _, t := range tokens {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.Name, whenText(t.CreatedAt), whenText(t.LastUsed))
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
