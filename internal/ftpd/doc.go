// Package ftpd is panelftp's FTP service: one listener (and optionally an
// implicit FTPS one) shared by the FTP sub-users of every hosting account,
// each locked into its own folder. The protocol is package ftp; this
// package is its backend: log-in through the service layer
// (Authenticator), the file system through the jail, live sessions,
// limits and kicks through the sessions registry, bans through the Guard,
// and the TLS certificates (a default one and one per domain).
//
// Security: a log-in is decided once (account, folder, owner of new files,
// quota) and attached to the connection; commands never go back to the
// database. Every log-in refused for its credentials reads "530 Login
// incorrect." whatever the reason (unknown user, wrong password,
// disabled user or account), is reported to the Guard, and is logged in
// one line for fail2ban:
//
//	level=WARN msg="FTP login failed" ip=203.0.113.9 user=dev.bob reason="unknown user or wrong password"
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
