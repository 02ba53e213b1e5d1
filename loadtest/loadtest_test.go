package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"testing"
	"time"
)

// TestSmoke runs the smoke pass (`go run ./loadtest -smoke`): the real
// server, built from this checkout, under 20 sessions for 3 seconds. It
// keeps the load test working; the full load is run by hand (see
// docs/RELIABILITY.md). Under -race the server is built with the race
// detector too, so a data race it hits under load fails the test.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server under load; skipped with -short")
	}
	args := []string{"-smoke"}
	if raceEnabled {
		args = append(args, "-race")
	}
	o, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	start := time.Now()
	if code := run(t.Context(), o, &out); code != 0 {
		t.Fatalf("smoke load test failed (exit status %d):\n%s", code, out.String())
	}
	t.Logf("smoke load test passed in %s:\n%s", time.Since(start).Round(time.Millisecond), out.String())
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
		check   func(options) bool
	}{
		{[]string{}, false, func(o options) bool { return o.sessions == 500 && o.duration == time.Minute && o.maxSize == 2<<20 }},
		{[]string{"-smoke"}, false, func(o options) bool { return o.sessions == 20 && o.duration == 3*time.Second && o.maxSize == 64<<10 }},
		{[]string{"-smoke", "-sessions", "7", "-max-size", "1MiB"}, false, func(o options) bool {
			return o.sessions == 7 && o.duration == 3*time.Second && o.maxSize == 1<<20
		}},
		{[]string{"-min-size", "4KiB", "-max-size", "2KiB"}, true, nil},
		{[]string{"-sessions", "0"}, true, nil},
		{[]string{"-passive-ports", "80-90"}, true, nil},
		{[]string{"-ramp", "2m"}, true, nil},
		{[]string{"extra"}, true, nil},
	}
	for _, tt := range tests {
		o, err := parseFlags(tt.args, io.Discard)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseFlags(%q): error %v, want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if err == nil && !tt.check(o) {
			t.Errorf("parseFlags(%q) = %+v", tt.args, o)
		}
	}
}

// TestServerBusy: only the server's "busy" 421 is tried again; a ban,
// a log-in limit or a wrong password is an error.
func TestServerBusy(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&textproto.Error{Code: 421, Msg: "Server busy, please try again in a moment."}, true},
		{fmt.Errorf("log-in: %w", &textproto.Error{Code: 421, Msg: "Server busy, please try again in a moment."}), true},
		{&textproto.Error{Code: 421, Msg: "Your IP address is banned until 18:00 UTC after repeated failed log-ins."}, false},
		{&textproto.Error{Code: 530, Msg: "Login incorrect."}, false},
		{errors.New("connection reset by peer"), false},
	}
	for _, tt := range tests {
		if got := serverBusy(tt.err); got != tt.want {
			t.Errorf("serverBusy(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
