package harness

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Entry is one line of a listing.
type Entry struct {
	Name string
	Size int64
	Dir  bool // a folder, including "." and ".."
}

// Entries runs a listing command (MLSD or LIST) on path ("": the current
// folder) and parses it: MLSD's facts (RFC 3659), or LIST in the format
// of ls -l that FTP servers write.
func (c *Client) Entries(ctx context.Context, command, path string) ([]Entry, error) {
	var all bytes.Buffer
	buf := make([]byte, 32<<10)
	if err := c.list(ctx, command, path, buf, func(b []byte) { all.Write(b) }); err != nil {
		return nil, err
	}
	var out []Entry
	for line := range strings.Lines(all.String()) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			continue
		}
		parse := parseLIST
		if strings.EqualFold(command, "MLSD") {
			parse = parseMLSD
		}
		e, err := parse(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", command, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// parseMLSD reads "type=file;size=123;modify=20260101120000; name".
func parseMLSD(line string) (Entry, error) {
	facts, name, ok := strings.Cut(line, " ")
	if !ok || name == "" {
		return Entry{}, fmt.Errorf("cannot parse %q", line)
	}
	e := Entry{Name: name}
	for _, f := range strings.Split(facts, ";") {
		k, v, _ := strings.Cut(f, "=")
		switch strings.ToLower(k) {
		case "type":
			v = strings.ToLower(v)
			e.Dir = v == "dir" || v == "cdir" || v == "pdir"
		case "size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return Entry{}, fmt.Errorf("size in %q", line)
			}
			e.Size = n
		}
	}
	return e, nil
}

// parseLIST reads "-rw-r--r-- 1 owner group 123 Jan  1 12:00 name": eight
// fields, then the name, which may hold spaces.
func parseLIST(line string) (Entry, error) {
	rest := line
	var f [8]string
	for i := range f {
		rest = strings.TrimLeft(rest, " ")
		var ok bool
		if f[i], rest, ok = strings.Cut(rest, " "); !ok {
			return Entry{}, fmt.Errorf("cannot parse %q", line)
		}
	}
	name := strings.TrimLeft(rest, " ")
	size, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil || name == "" {
		return Entry{}, fmt.Errorf("cannot parse %q", line)
	}
	if f[0][0] == 'l' { // a link: "name -> target"
		name, _, _ = strings.Cut(name, " -> ")
	}
	return Entry{Name: name, Size: size, Dir: f[0][0] == 'd'}, nil
}
