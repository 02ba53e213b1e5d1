package ftp

import (
	"errors"
	"io"
	"os"
)

// TYPE A (RFC 959 section 3.1.1.1): on the wire lines end with CR LF,
// in files with LF.

// asciiOut converts a file's LF line ends to CR LF while sending it.
type asciiOut struct{ prevCR bool }

// copy sends up to n bytes of src (the file) to dst, converted, through
// buf, telling moved after each write; it returns how many file bytes it
// sent.
func (a *asciiOut) copy(dst io.Writer, src io.Reader, n int64, buf []byte, moved func(int64)) (int64, error) {
	in, out := buf[:len(buf)/3], buf[len(buf)/3:len(buf)/3] // out has room for in, doubled
	var done int64
	for done < n {
		r, rerr := src.Read(in[:min(int64(len(in)), n-done)])
		if r > 0 {
			out = out[:0]
			for _, ch := range in[:r] {
				if ch == '\n' && !a.prevCR {
					out = append(out, '\r')
				}
				out = append(out, ch)
				a.prevCR = ch == '\r'
			}
			if _, err := dst.Write(out); err != nil {
				return done, err
			}
			done += int64(r)
			moved(int64(r))
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return done, io.EOF
			}
			return done, &fileError{rerr}
		}
	}
	return done, nil
}

// asciiIn converts CR LF line ends to LF while receiving a file. A CR at
// the end of one read is held until the next byte shows whether an LF
// follows.
type asciiIn struct{ pendingCR bool }

// copy receives up to n bytes from src (the data connection), converts
// them and writes them to dst through buf, telling moved after each
// write; it returns the bytes written.
func (a *asciiIn) copy(dst *os.File, src io.Reader, n int64, buf []byte, moved func(int64)) (int64, error) {
	in, out := buf[:len(buf)/2-1], buf[len(buf)/2:len(buf)/2]
	var read, written int64
	for read < n {
		r, rerr := src.Read(in[:min(int64(len(in)), n-read)])
		read += int64(r)
		out = out[:0]
		for _, ch := range in[:r] {
			if a.pendingCR {
				if ch != '\n' {
					out = append(out, '\r')
				}
				a.pendingCR = false
			}
			if ch == '\r' {
				a.pendingCR = true
				continue
			}
			out = append(out, ch)
		}
		if len(out) > 0 {
			w, err := dst.Write(out)
			written += int64(w)
			moved(int64(w))
			if err != nil {
				return written, &fileError{err}
			}
		}
		if rerr != nil {
			return written, rerr
		}
	}
	return written, nil
}

// finish writes a CR held back at the end of the upload.
func (a *asciiIn) finish(dst *os.File) {
	if a.pendingCR {
		_, _ = dst.Write([]byte{'\r'})
		a.pendingCR = false
	}
}
