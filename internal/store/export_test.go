package store

// SetSmallTable sets how many rows a table may hold for Reset to delete them rather than
// truncate it, until the returned function restores it.
func SetSmallTable(n int64) (restore func()) {
	old := smallTable
	smallTable = n
	return func() { smallTable = old }
}
