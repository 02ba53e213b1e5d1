package ftp

import (
	"strings"
	"testing"
	"time"
)

// TestContract pins what a client reads: one session, command after
// command, before log-in, logged in and at the end. A change here is a
// change clients see.
func TestContract(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{TLSConfig: testTLS(t)})
	ts.write("/f.txt", "hello")
	ts.write("/d/g.txt", "x")
	steps := []struct {
		cmd  string
		code int
		has  string
	}{
		// Before log-in.
		{"NOOP", 200, ""},
		{"SYST", 215, "UNIX Type: L8"},
		{"FEAT", 211, "\n MLST type*;size*;modify*;perm*;unique;unix.mode*;\n"},
		{"FEAT", 211, "\n AUTH TLS\n PBSZ\n PROT\n"},
		{"HELP", 214, "RETR"},
		{"HELP retr", 214, "Syntax: RETR file"},
		{"HELP SITE", 502, ""},
		{"PWD", 530, "Log in with USER and PASS first."},
		{"RETR f.txt", 530, "Log in"},
		{"CLNT Test Client 1.0", 200, ""},
		{"OPTS UTF8 ON", 200, ""},
		{"OPTS UTF8 OFF", 504, ""},
		{"PBSZ 0", 503, "Use AUTH TLS first."},
		{"PROT P", 503, "Use AUTH TLS first."},
		{"CCC", 533, ""},
		{"AUTH KERBEROS_V4", 504, "Only AUTH TLS"},
		{"HOST bad_host!", 501, ""},
		{"HOST FTP.Example.COM.", 220, "ftp.example.com"},
		{"BOGUS", 500, "Unknown command BOGUS."},
		{"SITE CHMOD 777 f.txt", 502, "not available"},
		{"PASS x", 503, "Send USER first."},
		{"USER " + testUser, 331, "Password required for alice."},
		{"HOST late.example.com", 503, "before USER"},
		{"PASS " + testPass, 230, "Login successful."},
		// Logged in.
		{"USER bob", 503, "Already logged in"},
		{"PASS x", 503, "Already logged in"},
		{"PWD", 257, `"/" is the current folder.`},
		{"TYPE A", 200, ""},
		{"TYPE A N", 200, ""},
		{"TYPE L 8", 200, ""},
		{"TYPE E", 504, ""},
		{"TYPE I", 200, ""},
		{"MODE S", 200, ""},
		{"MODE B", 504, "MODE S"},
		{"STRU F", 200, ""},
		{"STRU R", 504, "STRU F"},
		{"ALLO 1000", 202, ""},
		{"REST 5", 350, "Restarting at 5"},
		{"REST -1", 501, ""},
		{"REST", 501, "REST offset"},
		{"SIZE f.txt", 213, "5"},
		{"SIZE d", 550, "folder"},
		{"SIZE nope", 550, "No such file or folder."},
		{"MFMT 20200517083000 f.txt", 213, "Modify=20200517083000; f.txt"},
		{"MDTM f.txt", 213, "20200517083000"},
		{"MFMT yesterday f.txt", 501, "MFMT YYYYMMDDHHMMSS file"},
		{"MKD new", 257, `"/new" created.`},
		{"MKD new", 550, "already exists"},
		{"CWD new", 250, "/new"},
		{"PWD", 257, `"/new"`},
		{"CDUP", 250, ""},
		{"CWD f.txt", 550, "Not a folder."},
		{"CWD nope", 550, "No such file or folder."},
		{"RMD new", 250, ""},
		{"RMD f.txt", 550, "use DELE"},
		{"DELE d", 550, "use RMD"},
		{"RMD /", 550, "top folder"},
		{"RNTO x", 503, "Send RNFR first."},
		{"RNFR nope", 550, "No such file or folder."},
		{"RNFR f.txt", 350, ""},
		{"RNTO g.txt", 250, ""},
		{"RNFR g.txt", 350, ""},
		{"NOOP", 200, ""},
		{"RNTO f.txt", 503, "Send RNFR first."},
		{"RNFR g.txt", 350, ""},
		{"RNTO f.txt", 250, ""},
		{"STAT", 211, "Logged in as alice"},
		{"STAT f.txt", 213, "f.txt"},
		{"STAT d", 212, "g.txt"},
		{"STAT -la d", 212, "g.txt"},
		{"MLST f.txt", 250, "\n type=file;size=5;modify=20200517083000;perm=adfrw;unix.mode=0644; /f.txt\n"},
		{"MLST", 250, "type=cdir;"},
		{"MLST d", 250, "type=dir;"},
		{"OPTS MLST type;size;", 200, "MLST OPTS type;size;"},
		{"MLST f.txt", 250, "\n type=file;size=5; /f.txt\n"},
		{"OPTS MLST Type;nonsense;UNIQUE;", 200, "MLST OPTS type;unique;"},
		{"FEAT", 211, "MLST type*;size;modify;perm;unique*;unix.mode;"},
		{"OPTS MLST type;size;modify;perm;unix.mode;", 200, ""},
		{"OPTS NOOP", 501, ""},
		{"DELE ../../etc/passwd", 550, "No such file or folder."},
		{"LIST", 425, "send EPSV or PASV"},
		{"EPSV 2", 522, "use (1)"},
		{"EPSV 7", 522, ""},
		{"PORT 127,0,0,1,3,253", 501, "below 1024"},
		{"PORT 10,0,0,1,200,0", 501, "only to your own address (127.0.0.1)"},
		{"PORT 1,2,3", 501, "PORT h1,h2,h3,h4,p1,p2"},
		{"EPRT |3|x|1|", 522, "(1,2)"},
		{"EPRT |2|::1|2000|", 501, "own address"},
		{"EPRT |1|127.0.0.1|1|", 501, "below 1024"},
		{"EPRT |1|127.0.0.1|9|", 501, ""},
		{"ABOR", 226, "No transfer to abort."},
		{"PROT P", 503, ""},
		{"STOU", 502, ""},
		{"REIN", 502, ""},
		{"ACCT x", 202, ""},
		{"EPSV ALL", 200, ""},
		{"PASV", 503, "EPSV"},
		{"PORT 127,0,0,1,200,0", 503, "EPSV"},
		{"EPSV", 229, "Entering Extended Passive Mode (|||"},
		{"QUIT", 221, "Goodbye."},
	}
	c := ts.dial()
	for _, s := range steps {
		code, msg := c.cmd("%s", s.cmd)
		if code != s.code || !strings.Contains("\n"+msg+"\n", s.has) {
			t.Errorf("%.40s: %d %q, want %d with %q", s.cmd, code, msg, s.code, s.has)
		}
	}
	if code, _ := c.read(); code != 0 {
		t.Error("connection still open after QUIT")
	}
	eventually(t, 5*time.Second, "Client.Close", func() bool { return ts.be.closedCount() == 1 })
}
