package ftpd

// seekHole is lseek(2)'s SEEK_HOLE on Linux: the next hole (or the end
// of the file) at or after an offset.
const seekHole = 4
