package jail

import (
	"os/user"
	"slices"
	"strconv"
)

// Groups returns the groups a session of the account uid/gid acts with:
// gid, plus the groups of the user that has uid in the system's user
// database (/etc/passwd and /etc/group, or NSS), as initgroups(3) gives a
// log-in shell. That is what vsftpd and proftpd do for local users, so a
// folder shared with the account through a group works over FTP as it
// does in its shell. A uid with no user entry acts with gid alone. The
// database is read at each log-in, so a change applies from the next one.
func Groups(uid, gid int) []int {
	groups := []int{gid}
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return groups
	}
	ids, err := u.GroupIds()
	if err != nil {
		return groups
	}
	for _, s := range ids {
		if g, err := strconv.Atoi(s); err == nil && g >= 0 && !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	return groups
}
