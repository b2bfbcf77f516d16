package sandbox

// Backender is implemented by a Sandbox that hands out its backend, as
// [Box] does. Capabilities that a backend alone has (a Docker API, a
// feature set) are reached through it: a wrapper of a Sandbox forwards
// Backend to keep them.
type Backender interface {
	Backend() Backend
}

// BackendOf returns the backend behind sb, or nil when sb does not hand it
// out (it implements no [Backender]).
func BackendOf(sb Sandbox) Backend {
	if b, ok := sb.(Backender); ok {
		return b.Backend()
	}
	return nil
}
