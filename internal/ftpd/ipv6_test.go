package ftpd

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// needIPv6 skips when this machine has no IPv6 loopback.
func needIPv6(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	ln.Close()
}

// TestIPv6Client: a client that reaches the dual-stack control port over
// IPv6 lists, downloads and uploads through EPSV, with and without a
// passive port range.
func TestIPv6Client(t *testing.T) {
	needIPv6(t)
	for _, tt := range []struct {
		name  string
		ports PortRange
	}{
		{"any port", PortRange{}},
		{"port range", freePortRange(t, 8)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{cfg: Config{ListenAddr: "[::]:0", PassivePorts: tt.ports, DataConnTimeout: 2 * time.Second}})
			e.write("/f.txt", "hello over IPv6")
			_, port, _ := net.SplitHostPort(e.Addr)
			c, err := ftp.Dial(net.JoinHostPort("::1", port), ftp.DialWithTimeout(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Quit()
			if err := c.Login(testUser, testPass); err != nil {
				t.Fatal(err)
			}
			if got := string(retr(t, c, "/f.txt", 0)); got != "hello over IPv6" {
				t.Fatalf("download = %q", got)
			}
			entries, err := c.List("/") // MLSD: the cdir entry "." and f.txt
			if err != nil || len(entries) != 2 || entries[1].Name != "f.txt" {
				t.Fatalf("List = %d entries, %v", len(entries), err)
			}
			// An IPv4 client of the same server still works.
			c4, err := ftp.Dial(net.JoinHostPort("127.0.0.1", port), ftp.DialWithTimeout(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer c4.Quit()
			if err := c4.Login(testUser, testPass); err != nil {
				t.Fatal(err)
			}
			if got := string(retr(t, c4, "/f.txt", 0)); got != "hello over IPv6" {
				t.Fatalf("IPv4 download = %q", got)
			}
		})
	}
}

// TestIPv6PASV: PASV cannot carry an IPv6 address (RFC 2428); an IPv6
// client asking for it gets a refusal that points to EPSV, not an
// address it cannot reach, and the session goes on.
func TestIPv6PASV(t *testing.T) {
	needIPv6(t)
	e := newEnv(t, envOptions{cfg: Config{ListenAddr: "[::]:0"}})
	_, port, _ := net.SplitHostPort(e.Addr)
	r := dialRaw(t, net.JoinHostPort("::1", port), "220")
	r.must(331, "USER %s", testUser)
	r.must(230, "PASS %s", testPass)
	code, msg := r.cmd("PASV")
	if code != 522 || !strings.Contains(msg, "EPSV, which works without") {
		t.Errorf("PASV over IPv6: %d %q, want 522 pointing to EPSV", code, msg)
	}
	r.must(200, "NOOP")
	r.must(229, "EPSV")
}
