// Package ftpd is panelftp's FTP service: one listener (and optionally an
// implicit FTPS one) shared by the FTP sub-users of every hosting account,
// each locked into its own folder. The protocol is package ftp; this
// package is its backend: log-in through the service layer
// (Authenticator), the file system through the jail, live sessions,
// limits and kicks through the sessions registry, bans through the Guard,
// and the TLS certificates (a default one and one per domain). It writes
// a line per transfer to the transfer log (Config.TransferLog) and counts
// transfers for the metrics (Config.Metrics).
//
// Security: a log-in is decided once (account, folder, owner of new files,
// quota and the user's other controls) and attached to the connection.
// The sessions of one folder and identity share one open jail (jails.go).
// Commands go back to the database only when the node's reserve of a
// user's quota runs out, a chunk at a time (quota.go): quotas count
// allocated blocks and entries for every node together. Uploads are
// atomic unless configured otherwise (upload.go). Every log-in refused
// for its credentials reads "530 Login incorrect." whatever the reason
// (unknown user, wrong password, disabled user or account, an address the
// user's IP lists refuse), is reported to the Guard (not the IP lists'
// refusal, which checked no password), and is logged in one line for
// fail2ban:
//
//	level=WARN msg="FTP login failed" ip=203.0.113.9 user=dev.bob reason="unknown user or wrong password"
//
// The service writes the line of a refused IP itself (msg="FTP login
// refused" ... reason="IP not allowed for this user").
//
// The user's controls, once the password is right: an expired user reads
// when access ended (530), and a live session ends at the end of the
// user's last day, as a kick ends it; a user who needs TLS reads "530 TLS
// is required: use AUTH TLS, then log in." over a plain control
// connection, and 521 for a transfer without PROT P; a read-only user
// reads "550 Read-only account." for every command that writes; the
// user's own limit of sessions replaces the registry's per-user one.
// Upload and download rates are token buckets shared by all of a user's
// sessions on this node, holding a quarter of a second's worth of bytes
// (see rateBook); other nodes keep their own.
//
// Under attack, each client is held to bounded work, refusals reading
// 421 and closing the connection: a banned IP at connect (with the time
// the ban ends), before any session or password hash; more than
// LoginsPerIPPerMinute log-ins; no log-in within LoginTimeout (NOOPs do
// not help); a command line over MaxCommandLine (500); no free
// password-hashing slot within a few seconds ("server busy"); the store
// failing. Paths over MaxPathLength are refused (553/550), a full quota or
// disk reads 552, and a passive port the client never connects to is
// released after DataConnTimeout (425).
//
// Data connections go only to, and are only accepted from, the control
// connection's IP; active mode never connects to a port below 1024; with
// TLSDataReuse a TLS data connection must resume its control connection's
// TLS session. TLS is 1.2 or later with forward-secret AEAD suites only.
package ftpd
