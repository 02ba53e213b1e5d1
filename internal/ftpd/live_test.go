package ftpd

import (
	"strings"
	"testing"
)

// TestLiveSettings changes the passive address and the TLS requirement
// while the server runs: new connections follow, open sessions go on.
func TestLiveSettings(t *testing.T) {
	e := newEnv(t, envOptions{})
	open := e.raw()
	open.login(testUser, testPass)
	if msg := open.must(227, "PASV"); !strings.Contains(msg, "(127,0,0,1,") {
		t.Fatalf("PASV before any change announces %q, want the local address", msg)
	}

	if err := e.Srv.SetLive(Live{PublicHost: "ftp.example.com"}); err == nil {
		t.Fatal("SetLive accepted a host name")
	}
	if err := e.Srv.SetLive(Live{PublicHost: "10.9.8.7", TLSRequired: true}); err != nil {
		t.Fatal(err)
	}
	if got := e.Srv.Live(); got.PublicHost != "10.9.8.7" || !got.TLSRequired {
		t.Fatalf("Live() = %+v", got)
	}
	if msg := open.must(227, "PASV"); !strings.Contains(msg, "(10,9,8,7,") {
		t.Errorf("PASV after the change announces %q, want 10.9.8.7", msg)
	}
	open.must(200, "NOOP") // the open plain session is not cut

	plain := e.raw()
	if code, msg := plain.cmd("USER %s", testUser); code != 530 || !strings.Contains(msg, "TLS") {
		t.Errorf("USER without TLS after TLS became required: %d %s", code, msg)
	}

	if err := e.Srv.SetLive(Live{}); err != nil {
		t.Fatal(err)
	}
	again := e.raw()
	again.login(testUser, testPass)
	if msg := again.must(227, "PASV"); !strings.Contains(msg, "(127,0,0,1,") {
		t.Errorf("PASV after reset announces %q", msg)
	}
}

// TestLiveGreeting: the greeting set while the server runs is what the
// next connection reads; "" brings back the default.
func TestLiveGreeting(t *testing.T) {
	e := newEnv(t, envOptions{})
	if g := e.raw().greeting; g != DefaultGreeting {
		t.Fatalf("greeting %q, want %q", g, DefaultGreeting)
	}
	if err := e.Srv.SetLive(Live{Greeting: "two\r\nlines"}); err == nil {
		t.Fatal("SetLive accepted a greeting on two lines")
	}
	if err := e.Srv.SetLive(Live{Greeting: "Welcome to Example Hosting"}); err != nil {
		t.Fatal(err)
	}
	if g := e.raw().greeting; g != "Welcome to Example Hosting" || e.Srv.Live().Greeting != g {
		t.Errorf("greeting %q, Live() %+v", g, e.Srv.Live())
	}
	if err := e.Srv.SetLive(Live{}); err != nil {
		t.Fatal(err)
	}
	if g := e.raw().greeting; g != DefaultGreeting {
		t.Errorf("greeting after reset %q", g)
	}
}
