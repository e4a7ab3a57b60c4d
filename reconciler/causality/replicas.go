package causality

// OwnershipMoved is the reason of an ownership_moved event: which
// replica reconciles the group now, and why the one before let it go.
// The periods that follow are harmonized by owner, so their record reads
// "H7 ran on replica b after replica a's lease expired".
func OwnershipMoved(owner, previous string, released bool) string {
	switch {
	case previous == owner && released:
		return "replica " + owner + " took the group back after handing it over"
	case previous == owner:
		return "replica " + owner + " took the group back after its own lease expired (it was paused or restarted)"
	case released:
		return "replica " + owner + " took the group over after replica " + previous + " handed it over (rebalancing)"
	}
	return "replica " + owner + " took the group over after replica " + previous + "'s lease expired"
}

// OwnershipNoChange is why an ownership move caused no change.
const OwnershipNoChange = "An ownership move changes which pesd replica reconciles the group, never its capacity: " +
	"the new owner adopted the group's nodes as they were."
