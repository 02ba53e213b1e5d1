package domain

import "time"

// Ban keeps an IP out until Until. Count is how many times it was banned,
// so repeat offenders get longer bans. One row per address holds its
// ban and its repeat count, in force or not.
type Ban struct {
	IP     string
	Until  time.Time
	Count  int
	Reason string
	At     time.Time
}
