package defender

// InForce counts the bans in force now (each IPv4 address or IPv6 /64
// once), from memory, for the bans gauge of the metrics.
func (d *Defender) InForce() int {
	now := d.cfg.Now().UnixNano()
	d.mu.RLock()
	defer d.mu.RUnlock()
	n := 0
	for _, b := range d.bans {
		if b.until > now {
			n++
		}
	}
	return n
}
