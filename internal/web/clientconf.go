package web

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
)

// Ready-made client configurations for one sub-user. Neither contains a
// password: FileZilla is told to ask for it (Logontype 2), Cyberduck asks
// anyway. Both point at the jail root "/", which is all the user sees.

// FileZilla site manager numbers: Protocol 0 is FTP using explicit TLS
// when the server offers it, 4 is "Require explicit FTP over TLS";
// Logontype 2 is "Ask for password"; Type 0 lets FileZilla detect the
// server's listing style.
const (
	fzProtocolFTP         = 0
	fzProtocolExplicitTLS = 4
	fzLogonAskPassword    = 2
	fzServerTypeDefault   = 0
)

type fileZilla struct {
	XMLName  xml.Name   `xml:"FileZilla3"`
	Version  string     `xml:"version,attr"`
	Platform string     `xml:"platform,attr"`
	Servers  []fzServer `xml:"Servers>Server"`
}

type fzServer struct {
	Host         string `xml:"Host"`
	Port         int    `xml:"Port"`
	Protocol     int    `xml:"Protocol"`
	Type         int    `xml:"Type"`
	User         string `xml:"User"`
	Logontype    int    `xml:"Logontype"`
	PasvMode     string `xml:"PasvMode"`
	EncodingType string `xml:"EncodingType"`
	BypassProxy  int    `xml:"BypassProxy"`
	Name         string `xml:"Name"`
	// RemoteDir is in FileZilla's own path notation: "1 0" is the root
	// of a Unix-style server.
	RemoteDir    string `xml:"RemoteDir"`
	SyncBrowsing int    `xml:"SyncBrowsing"`
}

// fileZillaSite is the site manager file of one user, to import with
// File › Import. When the server requires TLS, so does the site.
func fileZillaSite(ci connectInfo, username string) ([]byte, error) {
	proto := fzProtocolFTP
	if ci.TLSRequired {
		proto = fzProtocolExplicitTLS
	}
	doc := fileZilla{Version: "3", Platform: "*nix", Servers: []fzServer{{
		Host: ci.Host, Port: ci.Port, Protocol: proto, Type: fzServerTypeDefault,
		User: username, Logontype: fzLogonAskPassword, PasvMode: "MODE_DEFAULT",
		EncodingType: "UTF-8", Name: username + " on " + ci.Host, RemoteDir: "1 0",
	}}}
	return marshalXML(doc, "")
}

// plist is the subset of Apple's property list format a Cyberduck
// bookmark needs: one dict of string values, in order.
type plist struct {
	XMLName xml.Name `xml:"plist"`
	Version string   `xml:"version,attr"`
	Dict    plistDict
}

type plistDict struct {
	XMLName xml.Name `xml:"dict"`
	Items   []any
}

type plistKey struct {
	XMLName xml.Name `xml:"key"`
	Value   string   `xml:",chardata"`
}

type plistString struct {
	XMLName xml.Name `xml:"string"`
	Value   string   `xml:",chardata"`
}

const plistDoctype = `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n"

// cyberduckBookmark is a .duck file, opened by double-click. Cyberduck's
// "ftps" protocol is FTP with explicit TLS (AUTH TLS), which the server
// always offers: the password and the files travel encrypted, as with
// the FileZilla site (which uses TLS whenever the server offers it).
func cyberduckBookmark(ci connectInfo, username string) ([]byte, error) {
	kv := []string{
		"Protocol", "ftps",
		"Nickname", username + " on " + ci.Host,
		"Hostname", ci.Host,
		"Port", strconv.Itoa(ci.Port),
		"Username", username,
		"Path", "/",
		"Encoding", "UTF-8",
	}
	var items []any
	for i := 0; i < len(kv); i += 2 {
		items = append(items, plistKey{Value: kv[i]}, plistString{Value: kv[i+1]})
	}
	return marshalXML(plist{Version: "1.0", Dict: plistDict{Items: items}}, plistDoctype)
}

func marshalXML(v any, doctype string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString(doctype)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func (s *server) downloadFileZilla(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.download(w, r, rc, ".xml", "application/xml", fileZillaSite)
}

func (s *server) downloadCyberduck(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.download(w, r, rc, ".duck", "application/octet-stream", cyberduckBookmark)
}

func (s *server) download(w http.ResponseWriter, r *http.Request, rc *reqCtx, ext, ctype string,
	build func(connectInfo, string) ([]byte, error)) {
	u, ok := s.loadUser(w, r, rc)
	if !ok {
		return
	}
	b, err := build(s.connectInfo(r), u.Username)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	// Usernames are [a-z0-9.] only, so the file name needs no quoting rules.
	h.Set("Content-Disposition", `attachment; filename="`+u.Username+ext+`"`)
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}
