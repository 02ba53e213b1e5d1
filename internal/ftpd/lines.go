package ftpd

import (
	"bytes"
	"fmt"
	"strings"
)

// lineReader hands the engine the client's command lines one at a time,
// so that ctrlConn can act on each before the engine sees it:
//
//   - A line longer than MaxCommandLine (newline included, the size of
//     the engine's line buffer) is answered "500 Command line too long"
//     and the connection ends; at most MaxCommandLine bytes are held.
//   - The engine runs transfer commands (RETR, STOR, APPE, LIST, NLST,
//     MLSD) in a goroutine of their own and goes on reading commands.
//     Most commands then wait for the transfer to end, but an unknown
//     command and STAT without an argument are answered at once, from
//     the command goroutine, through the same reply buffer as the
//     transfer's replies and without a lock (ftpserverlib v0.32.3,
//     clientHandler.writeMessage): a data race that can garble replies
//     or, with a nearly full buffer, panic outside the engine's recover
//     and stop the whole server. While a transfer may be running, those
//     two are answered here instead, directly on the connection under
//     ctrlConn's write lock, with the engine's own text for unknown
//     commands. A transfer may be running from the moment its command is
//     handed over until a command that waits for it has been.
type lineReader struct {
	buf  [MaxCommandLine]byte
	in   []byte // read from the client, not yet handed over; within buf
	out  []byte // the line being handed over; within buf
	busy bool   // a transfer may be running in the engine's goroutine
	// tooLong: the line in buf went past MaxCommandLine.
	tooLong bool
	err     error // from the read that brought the bytes in in
}

// Kinds of command lines, as the engine v0.32.3 treats them.
type lineKind int

const (
	lineOther    lineKind = iota // waits for a running transfer
	lineTransfer                 // starts a transfer goroutine
	lineSpecial                  // ABOR, QUIT: run at once by design (QUIT waits itself)
	lineRacy                     // unknown command, or STAT without argument
	lineAuth                     // AUTH: TLS may follow
)

// engineCommands are the commands ftpserverlib v0.32.3 knows (its
// commandsMap), with how each treats a running transfer. A test checks
// the list against the engine.
var engineCommands = func() map[string]lineKind {
	m := map[string]lineKind{}
	for _, c := range strings.Fields(`USER PASS ACCT ADAT PROT PBSZ CCC CONF ENC MIC
		CLNT FEAT SYST NOOP OPTS AVBL CSID HELP HOST LANG XRSQ XSEM XSEN
		SIZE DSIZ MDTM MFMT MFF MFCT STOU STRU DELE RNFR RNTO ALLO REST SITE
		HASH XCRC MD5 XMD5 XSHA XSHA1 XSHA256 XSHA512 COMB THMB XRCP
		CWD PWD XCWD XPWD CDUP MLST MKD RMD RMDA XMKD XRMD SMNT XCUP
		TYPE MODE PASV EPSV LPSV SPSV PORT LRPT EPRT REIN`) {
		m[c] = lineOther
	}
	for _, c := range []string{"RETR", "STOR", "APPE", "NLST", "LIST", "MLSD"} {
		m[c] = lineTransfer
	}
	m["ABOR"], m["QUIT"], m["STAT"], m["AUTH"] = lineSpecial, lineSpecial, lineSpecial, lineAuth
	return m
}()

// classify tells how the engine treats line (its newline included), and
// the upper-case command it sees.
func classify(line []byte) (lineKind, string) {
	s := string(bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r")))
	verb, param, _ := strings.Cut(s, " ")
	verb = strings.ToUpper(verb)
	kind, known := engineCommands[verb]
	if !known {
		// The engine's "special attention" commands, preceded by Telnet
		// IP and Synch bytes.
		for _, c := range []string{"ABOR", "STAT", "QUIT"} {
			if strings.HasSuffix(verb, c) {
				kind, known = engineCommands[c], true
				verb = c
				break
			}
		}
	}
	switch {
	case !known:
		return lineRacy, verb
	case verb == "STAT" && param == "":
		return lineRacy, verb
	case verb == "STAT":
		return lineOther, verb
	}
	return kind, verb
}

// Read implements net.Conn: it hands the engine one command line at a
// time (see lineReader).
func (w *ctrlConn) Read(p []byte) (int, error) {
	l := &w.lines
	for {
		if len(l.out) > 0 {
			n := copy(p, l.out)
			l.out = l.out[n:]
			return n, nil
		}
		if l.tooLong {
			return 0, w.lineTooLong()
		}
		if w.tlsUp.Load() {
			// TLS records from now on: first what was read ahead.
			if len(l.in) > 0 {
				n := copy(p, l.in)
				l.in = l.in[n:]
				return n, nil
			}
			return w.Conn.Read(p)
		}
		i := bytes.IndexByte(l.in, '\n')
		if i < 0 {
			if err := w.fill(); err != nil {
				// Hand over what is left, then the error.
				if len(l.in) > 0 {
					l.out, l.in = l.in, nil
					continue
				}
				return 0, err
			}
			continue
		}
		line := l.in[:i+1]
		l.in = l.in[i+1:]
		kind, verb := classify(line)
		switch {
		case kind == lineRacy && l.busy:
			w.answer(verb)
			continue
		case kind == lineTransfer:
			l.busy = true
		case kind == lineOther, kind == lineAuth:
			l.busy = false
		}
		// One line per Read: the engine handles it before asking for
		// more, so the next line is classified knowing what it did.
		l.out = line
	}
}

// fill reads more of the client's bytes, keeping what is unread; it
// notes a line that cannot fit. A read error is returned once the bytes
// read with it are used up, and not kept: after a timeout the engine may
// go on reading (it does while a transfer runs).
func (w *ctrlConn) fill() error {
	l := &w.lines
	if err := l.err; err != nil {
		l.err = nil
		return err
	}
	if len(l.in) == len(l.buf) {
		l.tooLong = true
		return nil
	}
	n := copy(l.buf[:], l.in)
	m, err := w.Conn.Read(l.buf[n:])
	l.in = l.buf[:n+m]
	if m == 0 {
		return err
	}
	l.err = err
	return nil
}

// answer replies to a command that the engine would answer while a
// transfer runs, racing with it.
func (w *ctrlConn) answer(verb string) {
	reply := fmt.Sprintf("500 Unknown command %#v\r\n", verb)
	if verb == "STAT" {
		reply = "211 A transfer is in progress.\r\n"
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if !w.sealed {
		_, _ = w.Conn.Write([]byte(reply))
	}
}
