package ftpd

import (
	"errors"
	"reflect"

	ftpserver "github.com/fclairamb/ftpserverlib"
)

var (
	errPrivilegedPort = errors.New("active mode (PORT/EPRT) to a port below 1024 is not allowed; use passive mode or a port of 1024 or more")
	errActiveUnknown  = errors.New("active mode is not available on this server; use passive mode")
)

// checkDataTarget refuses an active-mode data connection to a privileged
// port of the client, against the FTP bounce attack: the engine already
// makes the server connect only to the control connection's IP
// (Settings.ActiveConnectionsCheck), but it has no hook between parsing
// PORT/EPRT and dialing. So this runs in the driver calls that precede
// every dial (GetHandle for transfers, Stat and Open for listings) and
// reads the address the engine parsed.
func checkDataTarget(cc ftpserver.ClientContext) error {
	if cc.GetLastDataChannel() != ftpserver.DataChannelActive {
		return nil
	}
	port, pending, ok := activePort(cc)
	switch {
	case !ok:
		return errActiveUnknown // fail closed if the engine changed
	case pending && port < 1024:
		return errPrivilegedPort
	}
	return nil
}

// activePort reads the port of the active data connection the engine is
// about to open. ftpserverlib v0.32.3 keeps it in clientHandler.transfer
// (*activeTransferHandler).raddr and exposes no accessor; a test pins this
// layout, and ok is false if it ever changes. pending is false when no
// PORT/EPRT is waiting (the engine then refuses the transfer itself).
//
// The engine writes the field under its own lock in PORT and in ABOR; this
// read runs in the transfer goroutine the next command started, after PORT
// completed. An ABOR racing with it can only make the value read nil.
func activePort(cc ftpserver.ClientContext) (port int, pending, ok bool) {
	v := reflect.ValueOf(cc)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return 0, false, false
	}
	h := v.Elem().FieldByName("transfer")
	if !h.IsValid() || h.Kind() != reflect.Interface {
		return 0, false, false
	}
	if h.IsNil() {
		return 0, false, true
	}
	h = h.Elem()
	if h.Kind() != reflect.Pointer || h.IsNil() {
		return 0, false, true
	}
	if h.Type().Elem().Name() != "activeTransferHandler" {
		return 0, false, true // passive
	}
	raddr := h.Elem().FieldByName("raddr")
	if !raddr.IsValid() || raddr.Kind() != reflect.Pointer || raddr.IsNil() {
		return 0, false, false
	}
	p := raddr.Elem().FieldByName("Port")
	if !p.IsValid() || p.Kind() != reflect.Int {
		return 0, false, false
	}
	return int(p.Int()), true, true
}
