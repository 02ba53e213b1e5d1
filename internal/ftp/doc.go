// Package ftp is an FTP and FTPS server: the protocol, its replies and its
// data connections. It knows nothing of accounts or storage; a Backend
// decides who may connect and log in, and the Session a log-in returns is
// the file system the connection works in, with hooks for counting,
// limiting and recording transfers (Transfer). Optional interfaces add
// to it: a ReadOnlySession has every command that writes refused up
// front, and a StatusWatcher client hears when AUTH TLS, PROT or CLNT
// change the connection. Another file protocol could implement the same
// backend.
//
// # Standards
//
// RFC 959 (FTP; the minimum implementation of section 5.1 and more: TYPE A
// and I, MODE S, STRU F, ALLO, HELP, STAT, REST), RFC 2228 and RFC 4217 (AUTH
// TLS, PBSZ, PROT, CCC refused; implicit FTPS with Server.ServeTLS), RFC
// 2389 (FEAT, OPTS), RFC 2428 (EPSV, EPRT, EPSV ALL), RFC 3659 (SIZE, MDTM,
// REST STREAM, MLST and MLSD with the facts type, size, modify, perm,
// unique and unix.mode, chosen with OPTS MLST; TVFS), RFC 7151 (HOST) and
// draft-somers-ftp-mfxx (MFMT). CLNT is accepted before and after log-in,
// OPTS UTF8 ON always succeeds (names are UTF-8), SITE, STOU, REIN, SMNT,
// LPSV and LPRT answer 502.
//
// # Replies
//
// Every reply is an RFC code and one plain sentence. Errors from the
// backend map to replies in one place (see Error): a missing file reads
// "550 No such file or folder.", a refused one "550 Permission denied.",
// a full quota or disk 552, a refused name 553; an error the mapping does
// not know is logged and answered with a generic sentence. No reply
// carries an error's own text or a path of the server's disk.
//
// Policy refusals are permanent (5xx) and say what to do: "530 TLS is
// required: use AUTH TLS, then log in." on a connection that stays open
// (for every connection with Server.RequireTLS, after PASS when Login
// returns ErrTLSRequired), 521 for a transfer without PROT P where TLS is
// required (Server.RequireTLS, or Conn.RequireTLS from Login), the
// backend's refusal (550) for a command that writes in a
// ReadOnlySession, 501 for PORT or EPRT to another address or to a port
// below 1024 (refused when given, not at the transfer), 522 for PASV on
// an IPv6 connection and for a TLS data connection that must, and does
// not, resume the control connection's session
// (Server.TLSSessionReuse). A 421 reply always closes the connection, as
// its RFC 959 text says; so does a refused log-in, except one refused
// with ErrTLSRequired.
//
// # Concurrency
//
// Each connection has one goroutine that reads commands, runs them and
// answers; one transfer at a time runs in it too. Replies go through one
// writer, under a lock, and are buffered: they are written when the
// connection would otherwise wait for the client (before reading the next
// command, before a data connection's TLS handshake, before receiving an
// upload). The replies to pipelined commands, and the 150 and 226 of a
// small download or listing, so leave in one write.
//
// While a transfer runs, the control connection is read by a watcher
// goroutine that starts only when the transfer lasts more than a few
// milliseconds (a small transfer has ended by then); it first writes the
// buffered replies, the 150 among them. What it reads has one answer
// each:
//
//   - ABOR closes the data connection: the transfer command gets 426, then
//     ABOR gets 226 (RFC 959 section 4.1.3). An ABOR that arrives just as
//     the transfer completed gets 226 after the transfer's own 226; a
//     second ABOR is queued like other commands.
//   - STAT without an argument is answered at once with 211 and the
//     transfer's progress.
//   - Every other command, NOOP and QUIT included, is queued and run after
//     the transfer's final reply, in order; QUIT thus waits for the
//     transfer as RFC 959 asks. At most 16 are queued; beyond that the
//     control connection is not read until the transfer ends.
//   - The control connection closing ends the transfer too.
//
// Backend.Connect, Client.Login and Session's methods are called from
// the connection's goroutine; Conn.Close may be called from any goroutine
// and ends the connection at once, its data connection included.
//
// # Data connections
//
// A passive port (PASV, EPSV) serves one transfer and listens on the
// address the client reached. It accepts only a connection from the
// control connection's address: anyone else's is closed (and counted in
// one log line) and the port goes on listening until DataTimeout, so a
// scan of the port range cannot take or break a transfer. Ports are drawn
// at random from the free ports of PassivePorts. Active mode (PORT, EPRT)
// connects only to the client's own address, at a port of 1024 or more.
// With TLSSessionReuse, a TLS data connection must also resume the TLS
// session of its own control connection: session tickets carry a token
// of the connection they were issued on.
//
// Over plain TCP, downloads go from the file to the socket with
// sendfile(2) and uploads from the socket to the file with splice(2);
// over TLS, a download's records are gathered into 128 KiB writes. A
// chunk grows while it goes fast (to 4 MiB) and shrinks when it is slow;
// a copy still blocked after a second is cut by a deadline, counted and
// resumed, so the bytes of a transfer (Transfer.Progress, STAT) move at
// least once a second even for a client reading 10 KB/s.
// Listings are formatted into a reused buffer and written 32 KiB at a
// time.
//
// A panic in a connection is recovered, logged with its stack and
// answered "421 Internal error"; the connection ends and the server goes
// on.
package ftp
