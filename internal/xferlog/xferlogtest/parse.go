// Package xferlogtest reads xferlog lines back, for the tests of the
// packages that write them: it parses a line the way the format's manual
// page (xferlog(5) of wu-ftpd) describes it, independently of the writer.
package xferlogtest

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Entry is one parsed xferlog line, its fields in the format's order.
type Entry struct {
	When          time.Time // current-time
	Seconds, Size int64     // transfer-time, file-size
	Host, File    string    // remote-host, filename
	Kind          string    // transfer-type: a or b
	Action        string    // special-action-flag
	Dir           string    // direction: o, i or d
	Mode          string    // access-mode
	User          string    // username
	Service       string    // service-name
	Method        string    // authentication-method
	AuthUser      string    // authenticated-user-id
	State         string    // completion-status: c or i
}

// Parse reads one line (without its newline): the ctime-style local time
// (24 characters), then 13 fields separated by single spaces, none of
// them empty, each checked against what the format allows.
func Parse(line string) (Entry, error) {
	var e Entry
	if len(line) < 25 || line[24] != ' ' {
		return e, fmt.Errorf("no ctime-style time at the start")
	}
	var err error
	if e.When, err = time.ParseInLocation(time.ANSIC, line[:24], time.Local); err != nil {
		return e, fmt.Errorf("current-time: %v", err)
	}
	f := strings.Split(line[25:], " ")
	if len(f) != 13 {
		return e, fmt.Errorf("%d fields after the time, want 13: %q", len(f), f)
	}
	for i, v := range f {
		if v == "" {
			return e, fmt.Errorf("field %d is empty", i+2)
		}
	}
	if e.Seconds, err = strconv.ParseInt(f[0], 10, 64); err != nil || e.Seconds < 0 {
		return e, fmt.Errorf("transfer-time %q", f[0])
	}
	if _, err := netip.ParseAddr(f[1]); err != nil {
		return e, fmt.Errorf("remote-host %q", f[1])
	}
	if e.Size, err = strconv.ParseInt(f[2], 10, 64); err != nil || e.Size < 0 {
		return e, fmt.Errorf("file-size %q", f[2])
	}
	e.Host, e.File, e.Kind, e.Action, e.Dir, e.Mode = f[1], f[3], f[4], f[5], f[6], f[7]
	e.User, e.Service, e.Method, e.AuthUser, e.State = f[8], f[9], f[10], f[11], f[12]
	checks := []struct{ name, v, pattern string }{
		{"transfer-type", e.Kind, `^[ab]$`},
		{"special-action-flag", e.Action, `^(_|[CUT]+)$`},
		{"direction", e.Dir, `^[oid]$`},
		{"access-mode", e.Mode, `^[agr]$`},
		{"authentication-method", e.Method, `^[01]$`},
		{"completion-status", e.State, `^[ci]$`},
	}
	for _, c := range checks {
		if !regexp.MustCompile(c.pattern).MatchString(c.v) {
			return e, fmt.Errorf("%s %q does not match %s", c.name, c.v, c.pattern)
		}
	}
	return e, nil
}
