package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// TestSmoke runs `go run ./loadtest/cluster -smoke` against
// PANELFTP_TEST_POSTGRES, so the measuring program keeps working; the
// full measurement is run by hand (docs/RELIABILITY.md).
func TestSmoke(t *testing.T) {
	if os.Getenv("PANELFTP_TEST_POSTGRES") == "" {
		t.Skip("set PANELFTP_TEST_POSTGRES to a PostgreSQL URL to run the cluster measurement's smoke pass")
	}
	if testing.Short() {
		t.Skip("builds and runs 3 nodes; skipped with -short")
	}
	o, err := parseFlags([]string{"-smoke"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), o, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"transactions per second per idle node", "by session ID", "by a change of the user"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"-db", "postgres://x/y"}, true},
		{[]string{"-db", "postgres://x/y", "-nodes", "0"}, false},
		{[]string{"-db", "postgres://x/y", "-kicks", "1"}, false},
		{[]string{"-db", "postgres://x/y", "extra"}, false},
	} {
		if _, err := parseFlags(tc.args, io.Discard); (err == nil) != tc.ok {
			t.Errorf("parseFlags(%q) = %v, want ok %v", tc.args, err, tc.ok)
		}
	}
}
