package sandbox

// Supports reports whether the sandbox's backend says it has feature. A
// backend that does not implement [Supporter], and a nil sb, have no
// optional features.
func Supports(sb Sandbox, feature string) bool {
	if sb == nil {
		return false
	}
	s, ok := sb.Backend().(Supporter)
	return ok && s.Supports(feature)
}
