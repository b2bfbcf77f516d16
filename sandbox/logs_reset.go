package sandbox

// Reset empties every buffer of the set, keeping the buffers (a daemon
// goes on writing into its own), so that what was logged so far is not
// printed when the case fails.
func (l *Logs) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.m {
		if b != nil {
			b.Reset()
		}
	}
}
