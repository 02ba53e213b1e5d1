//go:build !linux

package ftpd

// seekHole is negative where SEEK_HOLE is not known: holes are not
// looked for.
const seekHole = -1
