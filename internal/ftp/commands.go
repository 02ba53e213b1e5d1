package ftp

import (
	"slices"
	"strconv"
	"strings"
)

// command is one FTP command the engine knows.
type command struct {
	fn       func(c *Conn, arg string) // nil: known, but not available (502)
	open     bool                      // allowed before log-in
	needsArg bool                      // 501 without an argument
	writes   bool                      // refused in a read-only session
	data     bool                      // uses a data connection
	help     string                    // its syntax, for HELP and 501 replies
}

// commands maps each verb to its command. The X variants are the RFC 775
// names some old clients still send.
var commands map[string]command

func init() {
	commands = map[string]command{
		// Access control, RFC 959 4.1.1; security, RFC 2228 and 4217.
		"USER": {fn: (*Conn).cmdUSER, open: true, needsArg: true, help: "USER name"},
		"PASS": {fn: (*Conn).cmdPASS, open: true, help: "PASS password"},
		"ACCT": {fn: (*Conn).cmdACCT, open: true, help: "ACCT account"},
		"AUTH": {fn: (*Conn).cmdAUTH, open: true, needsArg: true, help: "AUTH TLS"},
		"PBSZ": {fn: (*Conn).cmdPBSZ, open: true, needsArg: true, help: "PBSZ 0"},
		"PROT": {fn: (*Conn).cmdPROT, open: true, needsArg: true, help: "PROT P"},
		"CCC":  {fn: (*Conn).cmdCCC, open: true, help: "CCC"},
		"HOST": {fn: (*Conn).cmdHOST, open: true, needsArg: true, help: "HOST name"},
		"REIN": {help: "REIN"},
		"QUIT": {fn: (*Conn).cmdQUIT, open: true, help: "QUIT"},
		// Folders.
		"CWD":  {fn: (*Conn).cmdCWD, help: "CWD folder"},
		"XCWD": {fn: (*Conn).cmdCWD, help: "XCWD folder"},
		"CDUP": {fn: (*Conn).cmdCDUP, help: "CDUP"},
		"XCUP": {fn: (*Conn).cmdCDUP, help: "XCUP"},
		"PWD":  {fn: (*Conn).cmdPWD, help: "PWD"},
		"XPWD": {fn: (*Conn).cmdPWD, help: "XPWD"},
		"MKD":  {fn: (*Conn).cmdMKD, needsArg: true, writes: true, help: "MKD folder"},
		"XMKD": {fn: (*Conn).cmdMKD, needsArg: true, writes: true, help: "XMKD folder"},
		"RMD":  {fn: (*Conn).cmdRMD, needsArg: true, writes: true, help: "RMD folder"},
		"XRMD": {fn: (*Conn).cmdRMD, needsArg: true, writes: true, help: "XRMD folder"},
		"SMNT": {help: "SMNT"},
		// Files.
		"DELE": {fn: (*Conn).cmdDELE, needsArg: true, writes: true, help: "DELE file"},
		"RNFR": {fn: (*Conn).cmdRNFR, needsArg: true, writes: true, help: "RNFR name"},
		"RNTO": {fn: (*Conn).cmdRNTO, needsArg: true, writes: true, help: "RNTO name"},
		"SIZE": {fn: (*Conn).cmdSIZE, needsArg: true, help: "SIZE file"},
		"MDTM": {fn: (*Conn).cmdMDTM, needsArg: true, help: "MDTM file"},
		"MFMT": {fn: (*Conn).cmdMFMT, needsArg: true, writes: true, help: "MFMT YYYYMMDDHHMMSS file"},
		"ALLO": {fn: (*Conn).cmdALLO, help: "ALLO size"},
		"REST": {fn: (*Conn).cmdREST, needsArg: true, help: "REST offset"},
		"RETR": {fn: (*Conn).cmdRETR, needsArg: true, data: true, help: "RETR file"},
		"STOR": {fn: (*Conn).cmdSTOR, needsArg: true, writes: true, data: true, help: "STOR file"},
		"APPE": {fn: (*Conn).cmdAPPE, needsArg: true, writes: true, data: true, help: "APPE file"},
		"STOU": {writes: true, data: true, help: "STOU"},
		"ABOR": {fn: (*Conn).cmdABOR, help: "ABOR"},
		"SITE": {help: "SITE"},
		// Listings, RFC 959 and RFC 3659.
		"LIST": {fn: (*Conn).cmdLIST, data: true, help: "LIST [path]"},
		"NLST": {fn: (*Conn).cmdNLST, data: true, help: "NLST [path]"},
		"MLSD": {fn: (*Conn).cmdMLSD, data: true, help: "MLSD [folder]"},
		"MLST": {fn: (*Conn).cmdMLST, help: "MLST [path]"},
		"STAT": {fn: (*Conn).cmdSTAT, open: true, help: "STAT [path]"},
		// Data connections, RFC 959 and RFC 2428.
		"PASV": {fn: (*Conn).cmdPASV, help: "PASV"},
		"EPSV": {fn: (*Conn).cmdEPSV, help: "EPSV [1|2|ALL]"},
		"PORT": {fn: (*Conn).cmdPORT, needsArg: true, help: "PORT h1,h2,h3,h4,p1,p2"},
		"EPRT": {fn: (*Conn).cmdEPRT, needsArg: true, help: "EPRT |1|address|port|"},
		"LPSV": {help: "LPSV"},
		"LPRT": {help: "LPRT"},
		"TYPE": {fn: (*Conn).cmdTYPE, needsArg: true, help: "TYPE A|I"},
		"MODE": {fn: (*Conn).cmdMODE, needsArg: true, help: "MODE S"},
		"STRU": {fn: (*Conn).cmdSTRU, needsArg: true, help: "STRU F"},
		// Information, RFC 959 and RFC 2389.
		"FEAT": {fn: (*Conn).cmdFEAT, open: true, help: "FEAT"},
		"OPTS": {fn: (*Conn).cmdOPTS, open: true, needsArg: true, help: "OPTS command [options]"},
		"HELP": {fn: (*Conn).cmdHELP, open: true, help: "HELP [command]"},
		"SYST": {fn: (*Conn).cmdSYST, open: true, help: "SYST"},
		"NOOP": {fn: (*Conn).cmdNOOP, open: true, help: "NOOP"},
		"CLNT": {fn: (*Conn).cmdCLNT, open: true, help: "CLNT name"},
	}
	for verb, cmd := range commands {
		if cmd.fn != nil {
			helpList = append(helpList, verb)
		}
	}
	slices.Sort(helpList)
}

// helpList is the sorted list of the commands available.
var helpList []string

// features are the FEAT lines (RFC 2389) other than MLST, whose line
// lists the facts (RFC 3659 7.8) and AUTH TLS, listed when TLS is on.
var features = []string{"CLNT", "EPRT", "EPSV", "HOST", "MDTM", "MFMT", "MLSD", "REST STREAM", "SIZE", "TVFS", "UTF8"}

func (c *Conn) cmdFEAT(string) {
	var b strings.Builder
	b.WriteString("Extensions supported:")
	if c.srv.TLSConfig != nil {
		b.WriteString("\nAUTH TLS\nPBSZ\nPROT")
	}
	for _, f := range features {
		b.WriteString("\n" + f)
	}
	b.WriteString("\nMLST " + c.facts.feat())
	b.WriteString("\nEnd.")
	c.out.reply(211, b.String())
}

func (c *Conn) cmdOPTS(arg string) {
	name, value, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(name) {
	case "UTF8", "UTF-8":
		switch strings.ToUpper(strings.TrimSpace(value)) {
		case "ON", "":
			c.out.reply(200, "UTF-8 is always on.")
		default:
			c.out.reply(504, "UTF-8 cannot be turned off: names are sent as they are stored.")
		}
	case "MLST":
		c.facts = parseFacts(value) | c.facts&factReadOnly
		c.out.reply(200, "MLST OPTS "+c.facts.String())
	default:
		c.out.reply(501, "No options for that command; try OPTS UTF8 ON or OPTS MLST.")
	}
}

func (c *Conn) cmdHELP(arg string) {
	if arg != "" {
		cmd, ok := commands[strings.ToUpper(arg)]
		if !ok || cmd.fn == nil {
			c.out.reply(502, "Unknown command: HELP lists the commands available.")
			return
		}
		c.out.reply(214, "Syntax: "+cmd.help)
		return
	}
	var b strings.Builder
	b.WriteString("The following commands are recognized:")
	for i, verb := range helpList {
		if i%8 == 0 {
			b.WriteString("\n")
		} else {
			b.WriteString(" ")
		}
		b.WriteString(verb)
	}
	b.WriteString("\nHelp OK.")
	c.out.reply(214, b.String())
}

func (c *Conn) cmdSYST(string) { c.out.reply(215, "UNIX Type: L8") }
func (c *Conn) cmdNOOP(string) { c.out.reply(200, "NOOP OK.") }

func (c *Conn) cmdQUIT(string) {
	c.out.reply(221, "Goodbye.")
	c.done = true
}

// cmdACCT: a log-in never needs an account (RFC 959: 202, superfluous).
func (c *Conn) cmdACCT(string) { c.out.reply(202, "No account needed on this server.") }

func (c *Conn) cmdCLNT(arg string) {
	name := printable(arg, 128)
	c.mu.Lock()
	c.clientName = name
	c.mu.Unlock()
	c.statusChanged()
	c.out.reply(200, "Noted.")
}

// printable returns s without control characters, cut to max bytes.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > max {
		s = s[:max]
	}
	return strings.TrimSpace(s)
}

func (c *Conn) cmdTYPE(arg string) {
	f := strings.Fields(strings.ToUpper(arg))
	switch {
	case len(f) == 0:
		c.out.reply(501, "Give a type: TYPE A or TYPE I.")
	case f[0] == "I" && len(f) == 1, f[0] == "L" && len(f) == 2 && f[1] == "8":
		c.ascii = false
		c.out.reply(200, "Type set to I (binary).")
	case f[0] == "A" && (len(f) == 1 || len(f) == 2 && f[1] == "N"):
		c.ascii = true
		c.out.reply(200, "Type set to A (ASCII): line endings are converted.")
	default:
		c.out.reply(504, "Only TYPE A (ASCII) and TYPE I (binary) are supported.")
	}
}

func (c *Conn) cmdMODE(arg string) {
	if strings.EqualFold(arg, "S") {
		c.out.reply(200, "Mode set to S (stream).")
		return
	}
	c.out.reply(504, "Only MODE S (stream) is supported.")
}

func (c *Conn) cmdSTRU(arg string) {
	if strings.EqualFold(arg, "F") {
		c.out.reply(200, "Structure set to F (file).")
		return
	}
	c.out.reply(504, "Only STRU F (file) is supported.")
}

// cmdALLO: files need no space reserved in advance (RFC 959: 202).
func (c *Conn) cmdALLO(string) { c.out.reply(202, "No storage allocation needed.") }

func (c *Conn) cmdREST(arg string) {
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || n < 0 {
		c.out.reply(501, "Give the restart offset as a number of bytes: REST 1024.")
		return
	}
	c.rest = n
	c.out.reply(350, "Restarting at "+arg+": send RETR or STOR to resume.")
}

// takeRest returns the REST offset for the transfer starting now, and
// forgets it.
func (c *Conn) takeRest() int64 {
	n := c.rest
	c.rest = 0
	return n
}

// cmdSTAT without an argument reports the connection's state (211);
// with one, it lists the path on the control connection (212 for a
// folder, 213 for a file).
func (c *Conn) cmdSTAT(arg string) {
	if arg != "" {
		if !c.loggedIn.Load() {
			c.out.reply(530, "Log in with USER and PASS first.")
			return
		}
		c.statPath(arg)
		return
	}
	c.out.reply(211, c.status())
}

// status is the text of STAT without an argument; the transfer watcher
// sends it during a transfer too.
func (c *Conn) status() string {
	var b strings.Builder
	b.WriteString("FTP server status:")
	b.WriteString("\nConnected from " + c.remoteIP().String())
	if c.loggedIn.Load() {
		b.WriteString("\nLogged in as " + printable(c.user, 64))
	} else {
		b.WriteString("\nNot logged in")
	}
	if control, data := c.TLS(); control {
		b.WriteString("\nControl connection: TLS")
		if data {
			b.WriteString("; data connections: TLS")
		} else {
			b.WriteString("; data connections: clear")
		}
	} else {
		b.WriteString("\nControl connection: clear")
	}
	if x := c.xfer.Load(); x != nil {
		b.WriteString("\n" + x.progress())
	} else {
		b.WriteString("\nNo transfer in progress")
	}
	b.WriteString("\nEnd of status.")
	return b.String()
}

// cmdABOR outside a transfer: there is nothing to abort, but a passive
// port waiting for a connection is closed (RFC 959: 226).
func (c *Conn) cmdABOR(string) {
	c.data.clear()
	c.out.reply(226, "No transfer to abort.")
}
