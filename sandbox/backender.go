package sandbox

// Backender is implemented by a Sandbox that hands out its backend, as
// the harness's per-case sandbox does. Capabilities that a backend alone has (a Docker API, a
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

// Supports reports whether the sandbox's backend (see [Backender]) says it
// has feature. A backend that does not implement [Supporter] has no
// optional features.
func Supports(sb Sandbox, feature string) bool {
	s, ok := BackendOf(sb).(Supporter)
	return ok && s.Supports(feature)
}
