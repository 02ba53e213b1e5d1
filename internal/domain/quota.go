package domain

import "time"

// QuotaUsage is what an FTP user's folder holds as its quota counts it:
// the disk space allocated (st_blocks × 512, so a sparse file counts the
// blocks it uses and a folder or an empty file its own) and the entries
// (files, links and folders), as last measured plus every change the
// nodes serving the user made since, space they reserved for writes in
// progress included.
type QuotaUsage struct {
	// Directory is the host folder measured; another folder (the user's
	// path changed) is measured again.
	Directory  string
	Bytes      int64
	Files      int64
	MeasuredAt time.Time
}

// FolderUsage is what a folder holds, measured on request for a page:
// everything beneath it counted, the folder itself not.
type FolderUsage struct {
	// Bytes adds up the sizes of the regular files; Allocated is the disk
	// space every file, link and folder uses (st_blocks × 512), what
	// quotas count.
	Bytes, Allocated int64
	// Files counts everything that is not a folder; Folders the folders.
	Files, Folders int64
	// Partial means the measure stopped at its bounds: every figure is a
	// lower limit.
	Partial bool
}
